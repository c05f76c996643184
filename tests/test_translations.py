"""The zh-Hans catalogue (the default language) translates every message,
has nothing left fuzzy, and its compiled .mo is the .po as it stands."""

import ast
import gettext
from pathlib import Path

from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
ZH = LOCALE / "zh_Hans" / "LC_MESSAGES"


def _entries(po: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (or
    msgstr[n]) as strings, and its flags."""
    entries, entry, key = [], {}, None
    for raw in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, key = {}, None
        elif line.startswith("#,"):
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _space, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


def _messages(po: Path) -> list[dict]:
    return [e for e in _entries(po) if e.get("msgid")]


def test_every_message_has_a_chinese_translation():
    untranslated = [e["msgid"] for e in _messages(ZH / "django.po")
                    if not all(v for k, v in e.items() if k.startswith("msgstr"))]
    assert untranslated == []


def test_no_chinese_translation_is_left_fuzzy():
    fuzzy = [e["msgid"] for e in _messages(ZH / "django.po") if "fuzzy" in e.get("flags", ())]
    assert fuzzy == []


def test_compiled_catalogues_match_their_sources():
    for lang in ("zh_Hans", "en"):
        folder = LOCALE / lang / "LC_MESSAGES"
        with (folder / "django.mo").open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)._catalog
        stale = []
        for e in _messages(folder / "django.po"):
            if "fuzzy" in e.get("flags", ()):
                continue
            key = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
            if "msgid_plural" in e:
                wanted = {(key, int(k[7:-1])): v for k, v in e.items()
                          if k.startswith("msgstr[") and v}
                found = {k: catalog.get(k) for k in wanted}
            else:
                wanted = {key: e["msgstr"]} if e["msgstr"] else {}
                found = {key: catalog.get(key)} if wanted else {}
            if found != wanted:
                stale.append((lang, e["msgid"]))
        assert stale == [], "run `make messages`"


def test_a_word_with_two_meanings_is_translated_by_its_context():
    from delivery.models import ShipmentEvent
    from inventory.models import StockLevel

    with translation.override("zh-hans"):
        # A tracking event happens at a place; stock sits at a stock location.
        assert str(ShipmentEvent._meta.get_field("location").verbose_name) == "地点"
        assert str(StockLevel._meta.get_field("location").verbose_name) == "库位"
