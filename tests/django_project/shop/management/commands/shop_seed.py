from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from shop.models import Author, Book


class Command(BaseCommand):
    help = "Fills the shop with 8 books and the user ann."

    def handle(self, *args, **options):
        for i in range(8):
            author = Author.objects.create(name=f"Author {i}")
            Book.objects.create(title=f"Book {i}", slug=f"book-{i}", author=author, stock=i)
        User.objects.create_user("ann", password="pw-ann-1234")
