"""A planted deviation for the interop lab: a LiteLLM callback that rewrites one field.

Non-streamed chat answers get an id without the official `chatcmpl-` prefix, as some relays
do when they mint their own ids. relaycheck must catch it as `id.prefix`
(tests/interop/test_litellm.py::test_litellm_planted_deviation_is_caught)."""

from litellm.integrations.custom_logger import CustomLogger


class RewriteChatId(CustomLogger):
    async def async_post_call_success_hook(self, data, user_api_key_dict, response):
        if getattr(response, "object", None) == "chat.completion" and isinstance(getattr(response, "id", None), str):
            response.id = "relay-" + response.id.removeprefix("chatcmpl-")
        return response


rewrite_chat_id = RewriteChatId()
