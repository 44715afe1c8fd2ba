"""`shrinkage surplus confirm`: a user's verdict on a pattern validation, through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

from shrinkage.db import models as m
from shrinkage.db.services import get_or_create_nomenclature


def test_confirm_and_reject_a_validation(service, db_url, tmp_path):
    with service.transaction() as crud:
        product = get_or_create_nomenclature(crud, "КРЕВЕТКИ С/М")
        pattern = crud.create(m.SurplusPattern, nomenclature_id=product.id, surplus_percentage=6.0)
        first = crud.create(m.PatternValidation, surplus_pattern_id=pattern.id, deviation=0.03,
                            validation_date=datetime(2025, 3, 9))
        second = crud.create(m.PatternValidation, surplus_pattern_id=pattern.id, deviation=0.04,
                             validation_date=datetime(2025, 3, 16))
        ids = (pattern.id, first.id, second.id)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "SHRINKAGE_"))}
    env["SHRINKAGE_DATABASE_URL"] = db_url.render_as_string(hide_password=False)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "shrinkage.cli", "surplus", *args], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert cli("confirm", str(ids[1]), "--feedback", "glaze as agreed").returncode == 0
    assert cli("confirm", str(ids[2]), "--reject").returncode == 0
    missing = cli("confirm", "999999")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    first, second = service.get(m.PatternValidation, ids[1]), service.get(m.PatternValidation, ids[2])
    assert (first.is_confirmed, first.user_feedback) == (True, "glaze as agreed")
    assert second.is_confirmed is False and second.confirmation_date is not None
    assert service.get(m.SurplusPattern, ids[0]).feedback_count == 2
