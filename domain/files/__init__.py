"""Stored files: uploads (attachments, photos), their blobs, signed download links.

Other contexts (requests, reports) link uploads to their own objects with
:func:`domain.files.services.claim_files` and extend who may read a claimed
file with :func:`domain.files.services.register_read_check`.
"""
