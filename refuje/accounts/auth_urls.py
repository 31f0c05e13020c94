from django.urls import URLPattern, URLResolver, path

from . import auth_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("csrf/", auth_views.CsrfTokenView.as_view(), name="auth-csrf"),
    path("login/", auth_views.PasswordLoginView.as_view(), name="auth-login"),
    path("token/", auth_views.RetiredTokenView.as_view(), name="auth-token"),
    path("refresh/", auth_views.RefreshView.as_view(), name="auth-refresh"),
    path("logout/", auth_views.LogoutView.as_view(), name="auth-logout"),
    path("profile/", auth_views.ProfileView.as_view(), name="auth-profile"),
]
