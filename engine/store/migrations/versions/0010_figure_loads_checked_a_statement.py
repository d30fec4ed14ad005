"""figures.load_pk on PostgreSQL: its reference to figure_loads checked once a statement

A figures load copies tens of thousands of rows that all name one load, and the foreign key checked
each row on its own: 0.2 s of a year's 0.76 s load (66,688 rows; 0.54 s without), the server's
share that kept the load under 100,000 rows/s. PostgreSQL now checks the loads a statement's rows
name once, after the statement (0.015 s for the same rows), and refuses a load deleted or
renumbered while figures name it: what the foreign key refused, with its error code
(foreign_key_violation); emptying figure_loads stays refused by figures.superseded_by's foreign
key. SQLite keeps its foreign key, cheap there. The model keeps it too
(schema.ENFORCED_BY_TRIGGERS).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 08:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FK = "fk_figures_load_pk_figure_loads"

# each function names the other table in its own table's schema (TG_TABLE_SCHEMA), whatever the
# caller's search_path, and in a schema copied or renamed as well; no percent sign: the driver would
# read it as a placeholder
_CREATE = """
CREATE FUNCTION figures_name_loads() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE missing integer;
BEGIN
  EXECUTE 'SELECT a.load_pk FROM (SELECT DISTINCT load_pk FROM added) a WHERE NOT EXISTS (SELECT 1 FROM '
    || quote_ident(TG_TABLE_SCHEMA) || '.figure_loads l WHERE l.pk = a.load_pk) LIMIT 1' INTO missing;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE =
      'figures violate foreign key fk_figures_load_pk_figure_loads: load ' || missing || ' is not in figure_loads';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER figures_name_loads_insert AFTER INSERT ON figures
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION figures_name_loads();
CREATE TRIGGER figures_name_loads_update AFTER UPDATE ON figures
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION figures_name_loads();

CREATE FUNCTION figure_loads_named() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE named boolean;
BEGIN
  IF TG_OP = 'DELETE' OR NEW.pk <> OLD.pk THEN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident(TG_TABLE_SCHEMA) || '.figures WHERE load_pk = $1)'
      INTO named USING OLD.pk;
    IF named THEN
      RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', MESSAGE =
        'changing figure_loads violates foreign key fk_figures_load_pk_figure_loads: figures name load ' || OLD.pk;
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER figure_loads_named_change BEFORE DELETE OR UPDATE OF pk ON figure_loads
  FOR EACH ROW EXECUTE FUNCTION figure_loads_named();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(_FK, "figures", type_="foreignkey")
    op.execute(_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP TRIGGER figure_loads_named_change ON figure_loads;"
        " DROP TRIGGER figures_name_loads_update ON figures;"
        " DROP TRIGGER figures_name_loads_insert ON figures;"
        " DROP FUNCTION figure_loads_named(); DROP FUNCTION figures_name_loads();"
    )
    op.create_foreign_key(_FK, "figures", "figure_loads", ["load_pk"], ["pk"])
