/**
 * The LangChain4j models' internals: LangChain4j chat requests and messages turned into modserv
 * generation requests, and results and streams turned back. Not part of the API.
 */
@NullMarked
package dev.modserv.langchain4j.internal;

import org.jspecify.annotations.NullMarked;
