"""Matchmakers (红娘): members in a matchmaker's care, consultation slots and notes, and
introductions."""
