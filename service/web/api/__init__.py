"""The API's views, one flask-smorest blueprint per resource."""
