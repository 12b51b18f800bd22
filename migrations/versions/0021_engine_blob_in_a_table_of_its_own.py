"""engine blob in a table of its own

Each case's engine blob (1.1-2 KB of gzip JSON) and its serializer version move from `cases` to `case_states`
(one row per case, keyed by the case's id). PostgreSQL keeps values under ~2 KB inline, so the blob made most of
every case row and every scan or heap fetch of a list read it (issue 14); only a case action reads it, and its
lock query joins it in.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 07:24:12.491367
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0021'
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_states',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.Column('serializer_version', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_states_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_states'))
    )
    # In SQL, on the server: a district's million blobs never pass through Python.
    op.execute("INSERT INTO case_states (case_id, blob, serializer_version) "
               "SELECT id, state, serializer_version FROM cases")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('serializer_version')
        batch_op.drop_column('state')


def downgrade() -> None:
    # Nullable while they are filled (a NOT NULL column needs a value for the rows already there), then NOT NULL.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('serializer_version', sa.String(length=16), nullable=True))
    # Correlated subqueries: the same statement on SQLite and PostgreSQL.
    op.execute("UPDATE cases SET state = (SELECT s.blob FROM case_states s WHERE s.case_id = cases.id), "
               "serializer_version = (SELECT s.serializer_version FROM case_states s WHERE s.case_id = cases.id)")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column('serializer_version', existing_type=sa.String(length=16), nullable=False)
    op.drop_table('case_states')
