"""case audit heads on the case row

The head of each case's audit chain moves from its audit_streams row to the case's own row, which every case
action locks anyway: one read and one write fewer per action (issue 14). Other streams stay in audit_streams.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 04:23:04.162507
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('audit_hash', sa.String(length=64), server_default='0000000000000000000000000000000000000000000000000000000000000000', nullable=False))
    # Correlated subqueries: the same statement on SQLite and PostgreSQL.
    op.execute("UPDATE cases SET audit_seq = (SELECT s.last_seq FROM audit_streams s WHERE s.stream = 'case:' || cases.id), "
               "audit_hash = (SELECT s.last_hash FROM audit_streams s WHERE s.stream = 'case:' || cases.id) "
               "WHERE EXISTS (SELECT 1 FROM audit_streams s WHERE s.stream = 'case:' || cases.id)")
    op.execute("DELETE FROM audit_streams WHERE stream LIKE 'case:%'")



def downgrade() -> None:
    op.execute("INSERT INTO audit_streams (stream, last_seq, last_hash) "
               "SELECT 'case:' || id, audit_seq, audit_hash FROM cases WHERE audit_seq > 0")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('audit_hash')
        batch_op.drop_column('audit_seq')

