"""A planted deviation for the interop lab: a LiteLLM callback that rewrites one field.

When a request carries `x-interop-plant: chat-id` (sent through a gateways.yaml `headers:` entry),
the non-streamed chat answer gets an id without the official `chatcmpl-` prefix, as relays that
mint their own ids do. Requests without the header pass untouched, so the same LiteLLM process
serves the clean run and the planted one. relaycheck must report it as `id.prefix`
(tests/interop/test_litellm.py::test_litellm_planted_deviation_is_caught)."""

from litellm.integrations.custom_logger import CustomLogger

HEADER = "x-interop-plant"


class RewriteChatId(CustomLogger):
    async def async_post_call_success_hook(self, data, user_api_key_dict, response):
        headers = (data.get("proxy_server_request") or {}).get("headers") or {}
        planted = {k.lower(): v for k, v in headers.items()}.get(HEADER) == "chat-id"
        if planted and getattr(response, "object", None) == "chat.completion":
            response.id = "relay-" + str(response.id).removeprefix("chatcmpl-")
        return response


rewrite_chat_id = RewriteChatId()
