"""indexes for the lists at scale: board, worklist, notices, ratings

Issue #14 (supervision at scale): each list's filter and order in an index. The board reads open cases by
their promised limit (partial indexes: ended cases, 80 % of a district's, stay out), the worklist API reads a
unit's ready steps in its own order, the months of notices and the assessment's cards count by level from the
index alone, and so does the 好差评 average per department.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 01:06:48.306934
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_case_ratings_org_score', ['org_unit_id', 'score'], unique=False)

    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_case_tasks_worklist_due', ['org_unit_id', 'state', 'kind', 'due_at', 'created_at', 'id'], unique=False, postgresql_include=['lane', 'assignee', 'case_id'])

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_clock', ['id', 'status', 'promised_due_at'], unique=False)
        batch_op.create_index('ix_cases_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_open_org_promised', ['org_unit_id', 'promised_due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('running', 'suspended')"), postgresql_include=['card', 'warn_at'], sqlite_where=sa.text("status IN ('running', 'suspended')"))
        batch_op.create_index('ix_cases_org_stats', ['org_unit_id', 'status', 'card', 'completed_at', 'promised_due_at'], unique=False)
        batch_op.create_index('ix_cases_open_promised', ['promised_due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('running', 'suspended')"), postgresql_include=['org_unit_id', 'card', 'warn_at'], sqlite_where=sa.text("status IN ('running', 'suspended')"))

    with op.batch_alter_table('supervision_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_notices_org_created'))
        batch_op.create_index('ix_supervision_notices_org_created_level', ['org_unit_id', 'created_at', 'level'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('supervision_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_notices_org_created_level')
        batch_op.create_index(batch_op.f('ix_supervision_notices_org_created'), ['org_unit_id', 'created_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_org_stats')
        batch_op.drop_index('ix_cases_clock')
        batch_op.drop_index('ix_cases_created')
        batch_op.drop_index('ix_cases_open_promised', postgresql_where=sa.text("status IN ('running', 'suspended')"), sqlite_where=sa.text("status IN ('running', 'suspended')"))
        batch_op.drop_index('ix_cases_open_org_promised', postgresql_where=sa.text("status IN ('running', 'suspended')"), sqlite_where=sa.text("status IN ('running', 'suspended')"))

    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_case_tasks_worklist_due')

    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_case_ratings_org_score')


