"""Dashboards: request indicators from daily rollups, CSV exports, the reporting schema."""
