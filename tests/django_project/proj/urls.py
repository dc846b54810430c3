from django.urls import path
from shop import views

urlpatterns = [
    path("books/", views.book_list, name="book-list"),
    path("books/<int:pk>/", views.book_detail, name="book-detail"),
    path("books/<slug:slug>/reviews/<int:page>/", views.reviews, name="reviews"),
    path("order/", views.order, name="order"),
    path("missing/", views.missing, name="missing"),
    path("forbidden/", views.forbidden, name="forbidden"),
    path("suspicious/", views.suspicious, name="suspicious"),
    path("gone/", views.gone, name="gone"),
    path("boom/", views.boom, name="boom"),
    path("dupe/", views.dupe, name="dupe"),
    path("crunch/", views.crunch, name="crunch"),
    path("login/", views.login_ann, name="login"),
]
