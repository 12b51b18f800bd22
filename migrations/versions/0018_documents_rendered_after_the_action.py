"""documents rendered after the action

A document is numbered and its markup fixed in the case action's transaction; its PDF (and so its hash, key
and size) comes moments later, from the timer worker or the first request that needs it (issue 14). The
partial index finds the ones still to render. Downgrading needs every document rendered first
(`flask --app wsgi timers run --once` renders what is pending).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 04:08:16.355198
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('markup', sa.Text(), nullable=True))
        batch_op.alter_column('sha256',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('storage_key',
               existing_type=sa.VARCHAR(length=200),
               nullable=True)
        batch_op.alter_column('size',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index('ix_documents_unrendered', ['id'], unique=False, sqlite_where=sa.text('sha256 IS NULL'), postgresql_where=sa.text('sha256 IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_unrendered', sqlite_where=sa.text('sha256 IS NULL'), postgresql_where=sa.text('sha256 IS NULL'))
        batch_op.alter_column('size',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('storage_key',
               existing_type=sa.VARCHAR(length=200),
               nullable=False)
        batch_op.alter_column('sha256',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('markup')

