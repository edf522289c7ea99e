"""verification part of Qingyuan (see DESIGN.md)."""
