from django.urls import path

from . import views

urlpatterns = [
    path("", views.page),
    path("async/", views.async_page),
    path("login/", views.login),
    path("health/", views.health),
    path("api/courses/", views.course_list),
    path("api/courses/<int:pk>/", views.course_detail),
    path("api/enroll/", views.enroll),
    path("api/boom/", views.boom),
    path("api/stats/", views.stats),
]
