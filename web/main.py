"""Home: the funds with their headline figures."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from models import Fund
from web.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    funds = db.session.execute(select(Fund).order_by(Fund.code)).scalars().all()
    return render_template("main/home.html", funds=funds)
