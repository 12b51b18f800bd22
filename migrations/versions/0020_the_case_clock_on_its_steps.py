"""the case's clock on its steps, for the /work page's order

Issue #14: the /work page orders a clerk's ready steps by their case's clock (workable cases first, then the
promised limit). Joined to the cases, that read one case index entry per ready step (ten thousand for a big
department's review clerk) before the first row. The case's status (as "stopped") and promised limit are now
copied onto its steps (kept by the ORM hooks in app/cases/models.py) and a partial index over the ready user
steps holds the whole order, so a page reads its own index entries only.

Only open steps (ready or waiting) are filled in here: nothing reads the copy on a closed step, and a district's
closed steps are most of the table.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 07:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_stopped', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('case_due_at', app.db.UTCDateTime(timezone=True), nullable=True))
    # Correlated subqueries: the same statement on SQLite and PostgreSQL.
    op.execute("UPDATE case_tasks SET "
               "case_stopped = (SELECT c.status <> 'running' FROM cases c WHERE c.id = case_tasks.case_id), "
               "case_due_at = (SELECT c.promised_due_at FROM cases c WHERE c.id = case_tasks.case_id) "
               "WHERE state IN ('ready', 'waiting')")
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_case_tasks_ready_by_case_clock',
                              ['org_unit_id', 'case_stopped', 'case_due_at', 'due_at', 'created_at', 'id'],
                              unique=False, postgresql_include=['lane', 'assignee'],
                              postgresql_where=sa.text("state = 'ready' AND kind = 'user'"),
                              sqlite_where=sa.text("state = 'ready' AND kind = 'user'"))


def downgrade() -> None:
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_case_tasks_ready_by_case_clock',
                            postgresql_where=sa.text("state = 'ready' AND kind = 'user'"),
                            sqlite_where=sa.text("state = 'ready' AND kind = 'user'"))
        batch_op.drop_column('case_due_at')
        batch_op.drop_column('case_stopped')
