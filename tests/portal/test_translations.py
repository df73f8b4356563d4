"""The French and English catalogues are complete, and the committed .mo files match them."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest

import hirondelle.portal

LOCALE = Path(hirondelle.portal.__file__).parent / "locale"
TEMPLATES = Path(hirondelle.portal.__file__).parent / "templates"


def _entries(po: Path):
    text = po.read_text(encoding="utf-8")
    for block in text.split("\n\n")[1:]:

        def field(name, block=block):
            m = re.search(rf'^{re.escape(name)} ((?:".*"\n?)+)', block, re.M)
            if not m:
                return None
            return (
                "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
                .encode()
                .decode("unicode_escape")
                .encode("latin-1")
                .decode("utf-8")
            )

        msgid = field("msgid")
        if msgid is None:
            continue
        if "#, fuzzy" in block:
            yield msgid, None, None
            continue
        plural = field("msgid_plural")
        yield (
            msgid,
            plural,
            [field("msgstr")]
            if plural is None
            else [
                field("msgstr[0]"),
                field("msgstr[1]"),
            ],
        )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_catalogue_is_complete_and_compiled(lang) -> None:
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    with (LOCALE / lang / "LC_MESSAGES" / "django.mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    entries = list(_entries(po))
    assert len(entries) > 150
    for msgid, plural, strs in entries:
        assert strs, f"{lang}: fuzzy: {msgid!r}"
        assert all(strs), f"{lang}: untranslated: {msgid!r}"
        if plural is None:
            assert mo.gettext(msgid) == strs[0], f"{lang}: .mo is stale for {msgid!r}"
        else:
            assert mo.ngettext(msgid, plural, 1) == strs[0], f"{lang}: .mo is stale for {msgid!r}"
        for placeholder in re.findall(r"%\(\w+\)[sd]", msgid):
            assert all(placeholder in s for s in strs), f"{lang}: {placeholder} lost in {msgid!r}"


def test_templates_have_no_untranslated_sentences() -> None:
    """Text between tags is either a template tag or a symbol, never bare English."""
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text(encoding="utf-8")
        html = re.sub(
            r"{% comment %}.*?{% endcomment %}|{% blocktranslate.*?{% endblocktranslate %}"
            r"|{%.*?%}|{{.*?}}|<script.*?</script>",
            "",
            html,
            flags=re.S,
        )
        for text in re.findall(r">([^<>]+)<", html):
            words = re.findall(r"[A-Za-z]{4,}", text)
            allowed = {"Hirondelle", "Mastodon", "Bluesky"}
            assert not [w for w in words if w not in allowed], (template.name, text.strip())


def test_every_page_string_is_in_both_catalogues(tmp_path) -> None:
    """`makemessages` over the portal (templates and Python) finds no sentence
    that the French or English catalogue lacks: nothing shows in English on a
    French page because someone forgot to translate it."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "hirondelle" / "portal"
    shutil.copytree(LOCALE.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for lang in ("fr", "en"):
        (copy / "locale" / lang / "LC_MESSAGES" / "django.po").unlink()
    env = {
        **__import__("os").environ,
        "DJANGO_SETTINGS_MODULE": "hirondelle.settings",
        "HIRONDELLE_DATA_DIR": str(tmp_path / "data"),
    }
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-location"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    found = {m for m, _, _ in _entries(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")}
    assert len(found) > 150
    for lang in ("fr", "en"):
        known = {m for m, _, _ in _entries(LOCALE / lang / "LC_MESSAGES" / "django.po")}
        assert not sorted(found - known), f"{lang}: not in the catalogue: {sorted(found - known)}"
