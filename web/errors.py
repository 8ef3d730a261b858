"""Error pages: HTML for the screens, JSON under /api/ (whatever the error: a 405 or a 404
raised before any API view runs is still JSON there)."""
from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

API_PREFIX = "/api/"


def register(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError
    from sqlalchemy.exc import OperationalError

    from portfolio.book.unit import BookBusy
    from portfolio.errors import AmountRangeError

    app.register_error_handler(HTTPException, _handle)
    app.register_error_handler(AmountRangeError, _too_large)
    app.register_error_handler(OperationalError, _database)
    app.register_error_handler(BookBusy, _busy)
    app.register_error_handler(CSRFError, _form_not_verified)
    app.register_error_handler(Exception, _unexpected)


def _handle(error: HTTPException, message: str | None = None):
    code = error.code or 500
    # the exception's own headers go along (a 405's Allow, a 401's WWW-Authenticate)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")]
    if request.path.startswith(API_PREFIX):
        body = {"error": error.name, "status": code, "message": error.description}
        if error.description == type(error).description:  # werkzeug's English: a sentence of ours instead
            from portfolio.messages import TEXTS, Message
            from web.i18n import current_lang

            said = Message(f"http_{code}" if f"http_{code}" in TEXTS else "http_other")
            body.update(message=said.shown(current_lang()), key=said.key)
        return jsonify(body), code, headers
    return render_template("errors/error.html", code=code, error=error, message=message), code, headers


def _form_not_verified(error: HTTPException):
    """A form whose CSRF token is refused (Flask-WTF's CSRFError, raised before the view): its
    session ended (the 8-hour idle limit, a logout, the absolute limit) or the form was altered.
    Said as such in the reader's language, nothing saved, with the way back to the page the
    form was on (the Referer, when it is this site's; else the home page); JSON (with its key)
    for a program or a page's script. 400: sent again from a fresh page it goes through."""
    from flask_babel import refresh

    from portfolio.messages import Message
    from web.i18n import current_lang
    from web.security import referrer_on_this_site

    # raised before the app's other before_request hooks: the language and the user are read
    # for this request here (an app context shared with an earlier request keeps both on g)
    refresh()
    g.pop("_login_user", None)
    said = Message("form_not_verified")
    message = said.shown(current_lang())
    if request.path.startswith(API_PREFIX) or _wants_json():
        return jsonify({"error": error.name, "status": 400, "message": message, "key": said.key}), 400
    back = referrer_on_this_site()
    return render_template("errors/form_not_verified.html", message=message, back=back), 400


def _wants_json() -> bool:
    """A page's script (static/jobs.js asks with Accept: application/json) or a JSON body."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _too_large(error: Exception):
    """A book whose amounts add up past exact arithmetic (issue 12): the figures are refused,
    said plainly (422), never a wrapped sum and never a 500."""
    from flask_babel import gettext as _
    from werkzeug.exceptions import UnprocessableEntity

    message = _("账簿中金额的合计超出了能精确计算的范围（约 4.6 亿亿元），无法计算此报告的数字。")
    return _handle(UnprocessableEntity(message), message)


def _database(error: Exception):
    """The database gave up waiting for the book (an import held it past BOOK_LOCK_WAIT) where
    a use case did not turn that into a form error itself (a write flushed by a query, say;
    on SQLite, a page read while a large import writes its file): said plainly, nothing saved
    (409, with Retry-After: asked again later it goes through). Any other database failure is
    unexpected."""
    from portfolio.book.unit import is_busy

    if not is_busy(error):
        return _unexpected(error)
    return _busy(error)


def _busy(error: Exception):
    """The book was held past BOOK_LOCK_WAIT: a database wait that gave up (`_database`), or a
    unit of work's commit refused as BookBusy where no form shows it beside its fields (logging
    in, an API token's use): 409 and Retry-After, nothing saved."""
    from werkzeug.exceptions import Conflict

    from portfolio.book.unit import BUSY
    from portfolio.messages import Message
    from web.extensions import db
    from web.i18n import current_lang

    db.session.rollback()
    if "_login_user" not in g:  # the user could not be read either: the page is drawn without the menu's user
        from web.extensions import login_manager

        g._login_user = login_manager.anonymous_user()
    said = BUSY if request.method not in ("GET", "HEAD") else Message("book_busy_read")
    message = said.shown(current_lang())
    if request.path.startswith(API_PREFIX):  # with its key, as every refusal of the API
        return jsonify({"error": Conflict().name, "status": 409, "message": message, "key": said.key}), 409, \
            [("Retry-After", "5")]
    body, code, headers = _handle(Conflict(message), message)
    return body, code, [*headers, ("Retry-After", "5")]


def _unexpected(error: Exception):
    # a bug: logged with its traceback, answered as a plain 500 page (never a stack trace)
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _handle(InternalServerError())
