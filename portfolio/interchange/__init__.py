"""The workbook format: its schema, reading, import, export and the demo book."""
