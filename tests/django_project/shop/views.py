"""Views of every shape the integration must record."""

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import get_object_or_404, render

from .models import Author, Book


def book_list(request):
    request.session["cart"] = [1, 2]
    cache.set("shop:featured", [1, 2], 60)
    featured = cache.get("shop:featured")
    cache.get("shop:missing")
    cache.get("user_session_token")
    cache.get_or_set("shop:count", lambda: 8, 60)
    cache.get_many(["shop:featured", "shop:none"])
    books = list(Book.objects.order_by("id"))  # the view's own statement
    return render(request, "shop/list.html", {"books": books, "featured": featured,
                                              "api_token": "tok-9d8e7f6a5b",
                                              "reader": request.user.get_username()})


def book_detail(request, pk):
    book = get_object_or_404(Book, pk=pk)
    return JsonResponse({"title": book.title})


def reviews(request, slug, page):
    return JsonResponse({"slug": slug, "page": page})


def order(request):
    with transaction.atomic():
        author = Author.objects.create(name="New Author")
        Book.objects.create(title="New", slug=f"new-{author.pk}", author=author)
    return HttpResponse("ordered")


def missing(request):
    return HttpResponseNotFound("no such page")


def forbidden(request):
    raise PermissionDenied("members only")


def suspicious(request):
    raise SuspiciousOperation("tampered form")


def gone(request):
    return HttpResponse("gone", status=410)


def dupe(request):
    author = Author.objects.first()
    Book.objects.create(title="Again", slug="book-1", author=author)  # slug is unique
    return HttpResponse("unreachable")


def boom(request):
    raise RuntimeError("kaboom")


def _spin(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def crunch(request):
    return JsonResponse({"total": _spin(1_500_000)})


def login_ann(request):
    from django.contrib.auth import login
    from django.contrib.auth.models import User

    login(request, User.objects.get(username="ann"))
    return HttpResponse("hello ann")
