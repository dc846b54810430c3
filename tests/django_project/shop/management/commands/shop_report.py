from django.core.management.base import BaseCommand

from shop.models import Book


class Command(BaseCommand):
    help = "Prints the stock report."

    def handle(self, *args, **options):
        self.stdout.write(f"{Book.objects.count()} books in stock")
        self.stdout.write(self.style.SUCCESS("report done"))
        self.stderr.write("2 titles low on stock")
