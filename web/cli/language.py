"""The commands' language: Chinese by default, English when `PORTFOLIO_LANG=en` is set (or
the app's `CLI_LANGUAGE`, whose default is that variable when the app starts).

A command's own sentences and table headers are the screens' msgids, translated by
Flask-Babel in that language (`say`, one source of each sentence: translations/); the
domain's refusals are portfolio.messages keys rendered in it (`shown`)."""
from __future__ import annotations

import os
from typing import Any

from flask import current_app


def cli_lang() -> str:
    """'en' or 'zh': the environment variable when set, else the app's CLI_LANGUAGE."""
    chosen = os.environ.get("PORTFOLIO_LANG") or current_app.config.get("CLI_LANGUAGE") or "zh"
    return "en" if str(chosen).lower().startswith("en") else "zh"


def say(text: Any, **variables: Any) -> str:
    """A command's sentence (its msgid, the Chinese; or a lazy_gettext string of the screens')
    in the command line's language."""
    from flask_babel import force_locale, gettext

    with force_locale(cli_lang()):
        return gettext(text, **variables) if isinstance(text, str) else str(text)


def shown(message: Any) -> str:
    """A domain message (portfolio.messages.Message) in the command line's language; other
    text as it is."""
    from portfolio.messages import shown as render

    return render(message, cli_lang())


def refusals(errors) -> str:
    """A FieldErrors' sentences, one a line, in the command line's language."""
    return "\n".join(message for _field, message in errors.shown(cli_lang()))


def refusals_in_a_line(errors) -> str:
    """A FieldErrors' sentences in one line, in the command line's language (messages.clauses:
    一；二 / One; two), as a click error says them."""
    from portfolio.messages import clauses

    return clauses((message for _field, message in errors.shown(cli_lang())), cli_lang())
