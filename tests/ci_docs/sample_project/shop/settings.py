"""A one-app Django project: what a user's project looks like to the pytest plugin."""

SECRET_KEY = "sample-project-not-secret"
DEBUG = False  # as pytest-django forces it anyway
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["dm_log.django", "shop"]
MIDDLEWARE = ["dm_log.django.DebugMonitorMiddleware"]
ROOT_URLCONF = "shop.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
