"""`http(s)://…` pipelines: POST the CaseInput as JSON, read an Outcome back."""

from __future__ import annotations

import httpx2
import orjson

from replay.errors import AttemptFailed
from replay.models import CaseInput, ErrorClass, Outcome
from replay.run.endpoint import status_failure
from replay.run.pipelines.base import to_outcome


class HttpPipeline:
    """A team's drafting service behind an HTTP endpoint."""

    def __init__(self, url: str, client: httpx2.AsyncClient) -> None:
        self.name = url
        self.malformed: ErrorClass = "pipeline_error"
        self._url = url
        self._client = client

    async def draft(self, case: CaseInput) -> Outcome:
        """POST the case once; classify transport errors, statuses and junk bodies."""
        body = orjson.dumps(case.model_dump(mode="json"))
        try:
            response = await self._client.post(
                self._url, content=body, headers={"content-type": "application/json"}
            )
        except httpx2.TimeoutException:
            raise AttemptFailed(
                "model_timeout", "the pipeline endpoint did not answer in time", retryable=True
            ) from None
        except httpx2.TransportError:
            raise AttemptFailed(
                "model_connection", "could not connect to the pipeline endpoint", retryable=True
            ) from None
        if response.status_code >= 400:
            retry_after = response.headers.get("retry-after")
            raise status_failure(response.status_code, retry_after, "the pipeline endpoint")
        try:
            value = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise AttemptFailed(
                "pipeline_error",
                f"the pipeline endpoint answered {response.status_code} with a body that is "
                "not JSON",
                retryable=False,
                status=response.status_code,
            ) from None
        return to_outcome(value, "the pipeline endpoint")

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
