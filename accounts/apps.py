from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts.throttle import AdminLoginForm

        admin.site.login_form = AdminLoginForm
