"""The batch runs. A weekly run goes down these modules: context (what it reads besides the rows),
scoring, gather, analysis, weekly (writing and recording, with manifest); PEEL reruns add peel,
compare and peel_figures; records, audit (with audit_report) and dry_run read runs back or try rulesets."""
