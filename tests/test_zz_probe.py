import time
from tests.conftest import login
from tests.test_crawl import demo  # noqa: F401
from models import Job


def test_p(app, client, demo, db):
    login(client, "admin1")
    page = client.get("/admin/backups").get_data(as_text=True)
    import re
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    print(fields)
    r = client.post("/admin/backups", data=fields)
    print(r.status_code, r.headers.get("Location"))
    for _ in range(100):
        db.session.expire_all()
        job = db.session.get(Job, 1)
        if job and job.state in ("done", "failed"):
            break
        time.sleep(0.3)
    print(job.state, job.error)
