from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sales.models import Channel
from sales.partner_keys import partner_key_create


class Command(BaseCommand):
    help = _("Create a partner API key for a channel and print it once.")

    def add_arguments(self, parser):
        parser.add_argument("channel_code")
        parser.add_argument("--name", default="")

    def handle(self, *args, channel_code: str, name: str, **options):
        channel = Channel.objects.filter(code=channel_code).first()
        if channel is None:
            known = ", ".join(Channel.objects.values_list("code", flat=True)) or "-"
            raise CommandError(_("No channel %(code)s. Channels: %(known)s")
                               % {"code": channel_code, "known": known})
        _key, plain = partner_key_create(channel=channel, name=name)
        self.stdout.write(plain)
        self.stderr.write(_("Store this key now: it is not shown again."))
