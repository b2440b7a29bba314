from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth.signals import user_login_failed

        from accounts.throttle import AdminLoginForm, count_failure

        user_login_failed.connect(count_failure, dispatch_uid="accounts.count_login_failure")
        admin.site.login_form = AdminLoginForm
