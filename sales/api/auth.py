from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from sales.partner_keys import partner_key_verify


class PartnerApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`; request.auth is the PartnerApiKey."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _sep, plain = header.partition(" ")
        if scheme != self.keyword or not plain.strip():
            raise exceptions.AuthenticationFailed(
                _("Use the header 'Authorization: Api-Key <key>'."))
        key = partner_key_verify(plain.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        return (PartnerUser(key), key)

    def authenticate_header(self, request) -> str:
        return self.keyword


class PartnerUser:
    """The principal of a partner request: its channel, never a staff user."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True
    pk = None

    def __init__(self, key) -> None:
        self.key = key
        self.channel = key.channel
        self.username = f"partner:{key.channel.code}"

    def __str__(self) -> str:
        return self.username

    def has_perm(self, *args, **kwargs) -> bool:
        return False

    def has_perms(self, *args, **kwargs) -> bool:
        return False


class IsPartner(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, PartnerUser)


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "sales.api.auth.PartnerApiKeyAuthentication"
    name = "PartnerApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>` (create with `manage.py create_partner_key`)"}
