"""the upload quota: a user's uploads by time

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 01:20:00
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_files', schema=None) as batch_op:
        batch_op.create_index('ix_case_files_uploader_time', ['uploaded_by_id', 'uploaded_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_files', schema=None) as batch_op:
        batch_op.drop_index('ix_case_files_uploader_time')
