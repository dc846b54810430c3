from django.urls import path

from . import views

urlpatterns = [path("items/", views.items), path("boom/", views.boom)]
