import logging

from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import Item

log = logging.getLogger("shop.views")


def items(request: HttpRequest) -> JsonResponse:
    # The classic N+1: one query for the items, then one per item for its category.
    rows = [{"name": i.name, "category": i.category.name} for i in Item.objects.all()]
    log.warning("listed %d items", len(rows))
    return JsonResponse({"items": rows})


def boom(request: HttpRequest) -> HttpResponse:
    prices: dict[str, int] = {}
    return HttpResponse(str(prices["missing-sku"]))
