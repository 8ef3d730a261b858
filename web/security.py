"""Secure by default: response headers, cookies, the proxy in front, and file names.

Every response (pages, errors, the API, downloads) carries a strict Content-Security-Policy
(no inline script anywhere: the app's only script is static/app.js), frame-ancestors 'none',
nosniff, Referrer-Policy same-origin, and HSTS when the app is served over HTTPS.

Inline *styles* are allowed: the quarterly report's printable page carries its own <style>
(the charts' SVG uses presentation attributes, no style attribute). Styles
cannot run code; scripts, objects, frames and form targets are all locked to this site.
"""
from __future__ import annotations

import os
from urllib.parse import quote

from flask import Flask, Response, abort, request

from portfolio.record_rules import text_ok

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def security_config() -> dict:
    """Cookie and proxy settings from the environment. FUNDBOOK_ENV=production (the
    gunicorn.conf.py default) turns secure cookies on; COOKIE_SECURE=0/1 overrides it
    either way; PROXY_FIX_HOPS=N trusts N proxies' X-Forwarded-* headers."""
    production = os.environ.get("FUNDBOOK_ENV", "").lower() == "production"
    secure = _flag("COOKIE_SECURE", production)
    return {
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PROXY_FIX_HOPS": int(os.environ.get("PROXY_FIX_HOPS", "0") or 0),
        "HSTS": secure,
    }


def register_security(app: Flask) -> None:
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    app.before_request(refuse_control_characters)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("HSTS"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/"):  # its sentences (errors, a report's checks) in the asker's language
            response.vary.add("Accept-Language")
        return response


def refuse_control_characters() -> None:
    """An address (its path or a query parameter) with a control character is refused (400)
    before anything reads it: no address of the app has one, and PostgreSQL refuses NUL in
    any text it is asked to compare (`/funds/%00` had answered 500 on every page with a code
    or a filter). A form's fields are checked beside them (web.forms.BaseForm)."""
    if not text_ok(request.path) or not all(text_ok(k) and text_ok(v) for k, v in request.args.items(multi=True)):
        abort(400)


def referrer_on_this_site() -> str | None:
    """The page the request came from (its Referer: the browsers send it to this site, as
    Referrer-Policy same-origin lets them), as a path on this site; None when there is none,
    or it is another site's (scheme or host other than this request's), or not a plain path."""
    from urllib.parse import urlsplit

    referrer = request.referrer or ""
    if not referrer or len(referrer) > 2000 or not text_ok(referrer):
        return None
    try:
        parts = urlsplit(referrer)
    except ValueError:
        return None
    if parts.scheme != request.scheme or parts.netloc != request.host:
        return None
    from web.auth import on_this_site

    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return path if on_this_site(path) else None


def content_disposition(filename: str) -> str:
    """A Content-Disposition header for any file name (RFC 6266 / RFC 5987): a plain ASCII
    fallback for old clients, and the exact name, UTF-8 and percent-encoded, for the rest."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(filename, safe='')}"
