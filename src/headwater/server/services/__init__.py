"""The database work behind the routes: plain async functions over a connection."""
