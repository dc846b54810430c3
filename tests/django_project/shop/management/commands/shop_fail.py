from django.core.management.base import BaseCommand

from shop.models import Book


def load_prices():
    raise ValueError("bad price row 12")


class Command(BaseCommand):
    help = "Fails while loading prices."

    def handle(self, *args, **options):
        Book.objects.count()
        load_prices()
