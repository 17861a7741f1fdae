"""What a request may ask for: ids and numbers a database integer column holds."""

# Ids are INTEGER columns: 32 bits on PostgreSQL (SQLite would take 64).
LARGEST_INT = 2**31 - 1
SMALLEST_INT = -(2**31)
