"""The screening rules engine: pure, data-driven (rules.json, drugs.json), no ORM."""
