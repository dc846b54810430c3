"""A tiny course catalogue: enough for N+1 queries, writes and a task."""

from __future__ import annotations

from django.db import models


class Course(models.Model):
    title = models.CharField(max_length=200)
    code = models.CharField(max_length=40, unique=True)


class Enrollment(models.Model):
    course = models.ForeignKey(Course, related_name="enrollments", on_delete=models.CASCADE)
    student = models.CharField(max_length=100)
    mode = models.CharField(max_length=20, default="audit")
    notified = models.BooleanField(default=False)


class ApiToken(models.Model):
    key = models.CharField(max_length=100)
    owner = models.CharField(max_length=100)


class PageView(models.Model):
    path = models.CharField(max_length=200)
