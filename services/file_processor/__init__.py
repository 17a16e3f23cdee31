"""The S3 file processor: an AWS Lambda handler (``handler.handler``) and its local SQS runner.

Deployed alone as a Lambda zip, so it imports only the standard library and boto3 (never
``ecomctl`` or the services kit).
"""
