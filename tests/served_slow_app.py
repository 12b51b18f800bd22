"""The app as gunicorn serves it (create_app, as wsgi.py does), plus one deliberately slow route for the worker
timeout test (tests/e2e/test_served_timeout.py): it writes a row, then sleeps past gunicorn's `--timeout`."""
import os
import time

from app import create_app
from app.orgs.models import OrgUnit

app = create_app({"DATABASE_URL": os.environ["SLOW_APP_DATABASE_URL"], "SECRET_KEY": "test-secret"})


@app.post("/api/v1/test-slow")
def slow():
    with app.extensions["sunlight.db"].unit_of_work() as session:
        session.add(OrgUnit(code="SLOW", name="slow", kind="department", path="/SLOW/"))
        session.flush()
        time.sleep(float(os.environ.get("SLOW_APP_SECONDS", "60")))
    return {"done": True}
