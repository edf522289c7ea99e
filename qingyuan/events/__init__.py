"""events part of Qingyuan (see DESIGN.md)."""
