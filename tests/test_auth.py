from __future__ import annotations

from sqlalchemy import select

from models import AuditEntry, User
from tests.conftest import PASSWORD, login, make_user


def test_every_page_but_login_needs_a_login(client):
    assert client.get("/").status_code == 302
    assert "/login" in client.get("/").headers["Location"]
    assert client.get("/login").status_code == 200


def test_login_with_right_and_wrong_password(db, client):
    make_user(db, "alice", "manager")
    response = login(client, "alice", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_passwords_are_hashed_and_user_creation_audited(db):
    make_user(db, "bob", "viewer")
    user = db.session.execute(select(User).where(User.username == "bob")).scalar_one()
    assert PASSWORD not in user.password_hash and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "users")).scalar_one()
    assert entry.entity_key == "bob" and entry.after == {"role": "viewer", "active": True}


def test_viewer_gets_403_on_any_write(as_role):
    client = as_role("viewer")
    assert client.post("/").status_code in (403, 405)
    assert client.post("/anything/at/all").status_code in (403, 404)


def test_create_user_command(runner, db):
    result = runner.invoke(args=["create-user", "carol", "--role", "admin", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    assert db.session.execute(select(User.role).where(User.username == "carol")).scalar_one() == "admin"


def test_english_switch(as_role):
    client = as_role("viewer")
    assert "退出" in client.get("/").get_data(as_text=True)
    client.get("/lang/en")
    assert "Log out" in client.get("/").get_data(as_text=True)
