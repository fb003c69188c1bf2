"""The HTTP side, and the only package that imports Flask: the app, its plumbing, error mapping, views and schemas."""
