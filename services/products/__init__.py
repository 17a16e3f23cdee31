"""The products service: the catalogue with stock, in DynamoDB."""
