"""Everything Flask: blueprints, forms, login and roles, the JSON API, the commands."""
