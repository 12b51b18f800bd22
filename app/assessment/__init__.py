"""Assessment (考核评估): what the supervision adds up to, per department and period (CONTRACT.md, issue 11)."""
