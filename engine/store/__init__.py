"""Storage: the only layer that talks to the database. Importing it registers every table."""

from engine.store import action_tables as action_tables
from engine.store import delivery_tables as delivery_tables
from engine.store import figure_tables as figure_tables
