"""What the upload tests share: reading back the multipart body of a recorded part."""

from __future__ import annotations

import email.parser
import email.policy

from llama_models.testing import RecordedRequest


def form_fields(request: RecordedRequest) -> list[tuple[str | None, str | None, str, bytes]]:
    """The (name, filename, content type, content) of each field of a multipart body.

    The standard library's email parser reads it, independently of both the client's
    encoder and the fake server's parser.
    """
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    assert message.is_multipart()
    fields = []
    for part in message.iter_parts():
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        name = part.get_param("name", header="content-disposition")
        assert name is None or isinstance(name, str)
        fields.append((name, part.get_filename(), part.get_content_type(), content))
    return fields
