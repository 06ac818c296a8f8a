#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/snapshot.h"
#include "providers/aws/facts.h"
#include "providers/aws/sns.h"
#include "providers/aws/sqs.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_fixtures.h"
#include "tests/support/aws_parse.h"

/* Answers as the query protocol sends them (botocore sqs/2012-11-05 and sns/2010-03-31: SQS lists
 * flattened QueueUrl and Attribute elements, SNS wraps lists in member and maps in entry/key/value;
 * JSON documents inside values are XML-escaped). */
static const char s_ListQueues1[] =
    "<?xml version=\"1.0\"?><ListQueuesResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Lis"
    "tQueuesResult><QueueUrl>https://sqs.us-east-1.amazonaws.com/111122223333/demo-orders</QueueUrl><Queu"
    "eUrl>https://sqs.us-east-1.amazonaws.com/111122223333/demo-orders-dlq</QueueUrl><NextToken>ZXhhbXBsZ"
    "U5leHRUb2tlbg==</NextToken></ListQueuesResult><ResponseMetadata><RequestId>725275ae-0b9b-4762-b238-4"
    "36d7c65a1ac</RequestId></ResponseMetadata></ListQueuesResponse>";

static const char s_ListQueues2[] =
    "<?xml version=\"1.0\"?><ListQueuesResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Lis"
    "tQueuesResult><QueueUrl>https://sqs.us-east-1.amazonaws.com/111122223333/demo-events.fifo</QueueUrl>"
    "</ListQueuesResult><ResponseMetadata><RequestId>825275ae-0b9b-4762-b238-436d7c65a1ac</RequestId></Re"
    "sponseMetadata></ListQueuesResponse>";

static const char s_ListQueuesEmpty[] =
    "<?xml version=\"1.0\"?><ListQueuesResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Lis"
    "tQueuesResult/><ResponseMetadata><RequestId>925275ae-0b9b-4762-b238-436d7c65a1ac</RequestId></Respon"
    "seMetadata></ListQueuesResponse>";

static const char s_GetQueueAttributes[] =
    "<?xml version=\"1.0\"?><GetQueueAttributesResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05"
    "/\"><GetQueueAttributesResult><Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:111122223"
    "333:demo-orders</Value></Attribute><Attribute><Name>ApproximateNumberOfMessages</Name><Value>0</Valu"
    "e></Attribute><Attribute><Name>CreatedTimestamp</Name><Value>1700000000</Value></Attribute><Attribut"
    "e><Name>Policy</Name><Value>{&quot;Version&quot;:&quot;2012-10-17&quot;,&quot;Id&quot;:&quot;orders-"
    "policy&quot;,&quot;Statement&quot;:[{&quot;Sid&quot;:&quot;sns&quot;,&quot;Effect&quot;:&quot;Allow&"
    "quot;,&quot;Principal&quot;:{&quot;Service&quot;:&quot;sns.amazonaws.com&quot;},&quot;Action&quot;:&"
    "quot;sqs:SendMessage&quot;,&quot;Resource&quot;:&quot;arn:aws:sqs:us-east-1:111122223333:demo-orders"
    "&quot;,&quot;Condition&quot;:{&quot;ArnEquals&quot;:{&quot;aws:SourceArn&quot;:&quot;arn:aws:sns:us-"
    "east-1:111122223333:demo-orders-topic&quot;}}}]}</Value></Attribute><Attribute><Name>VisibilityTimeo"
    "ut</Name><Value>30</Value></Attribute><Attribute><Name>RedrivePolicy</Name><Value>{&quot;deadLetterT"
    "argetArn&quot;:&quot;arn:aws:sqs:us-east-1:111122223333:demo-orders-dlq&quot;,&quot;maxReceiveCount&"
    "quot;:5}</Value></Attribute><Attribute><Name>KmsMasterKeyId</Name><Value>alias/aws/sqs</Value></Attr"
    "ibute><Attribute><Name>KmsDataKeyReusePeriodSeconds</Name><Value>300</Value></Attribute><Attribute><"
    "Name>SqsManagedSseEnabled</Name><Value>false</Value></Attribute></GetQueueAttributesResult><Response"
    "Metadata><RequestId>b5293cb5-d306-4a17-9048-b263635abe42</RequestId></ResponseMetadata></GetQueueAtt"
    "ributesResponse>";

static const char s_GetQueueAttributesSse[] =
    "<?xml version=\"1.0\"?><GetQueueAttributesResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05"
    "/\"><GetQueueAttributesResult><Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:111122223"
    "333:demo-orders-dlq</Value></Attribute><Attribute><Name>SqsManagedSseEnabled</Name><Value>true</Valu"
    "e></Attribute><Attribute><Name>Policy</Name><Value>{not json</Value></Attribute></GetQueueAttributes"
    "Result><ResponseMetadata><RequestId>c5293cb5-d306-4a17-9048-b263635abe42</RequestId></ResponseMetada"
    "ta></GetQueueAttributesResponse>";

static const char s_ListTopics[] =
    "<ListTopicsResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n  <ListTopicsResult>\n    <"
    "Topics>\n      <member>\n        <TopicArn>arn:aws:sns:us-east-1:111122223333:demo-orders-topic</Top"
    "icArn>\n      </member>\n      <member>\n        <TopicArn>arn:aws:sns:us-east-1:111122223333:demo-a"
    "lerts</TopicArn>\n      </member>\n    </Topics>\n    <NextToken>dG9waWNzMg==</NextToken>\n  </ListT"
    "opicsResult>\n  <ResponseMetadata>\n    <RequestId>3f1478c7-33a9-11df-9540-99d0768312d3</RequestId>"
    "\n  </ResponseMetadata>\n</ListTopicsResponse>\n";

static const char s_GetTopicAttributes[] =
    "<GetTopicAttributesResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n  <GetTopicAttribut"
    "esResult>\n    <Attributes>\n      <entry>\n        <key>Owner</key>\n        <value>111122223333</v"
    "alue>\n      </entry>\n      <entry>\n        <key>Policy</key>\n        <value>{&quot;Version&quot;"
    ":&quot;2008-10-17&quot;,&quot;Id&quot;:&quot;__default_policy_ID&quot;,&quot;Statement&quot;:[{&quot"
    ";Sid&quot;:&quot;__default_statement_ID&quot;,&quot;Effect&quot;:&quot;Allow&quot;,&quot;Principal&q"
    "uot;:{&quot;AWS&quot;:&quot;*&quot;},&quot;Action&quot;:[&quot;SNS:Publish&quot;,&quot;SNS:Subscribe"
    "&quot;],&quot;Resource&quot;:&quot;arn:aws:sns:us-east-1:111122223333:demo-orders-topic&quot;,&quot;"
    "Condition&quot;:{&quot;StringEquals&quot;:{&quot;AWS:SourceOwner&quot;:&quot;111122223333&quot;}}}]}"
    "</value>\n      </entry>\n      <entry>\n        <key>TopicArn</key>\n        <value>arn:aws:sns:us-"
    "east-1:111122223333:demo-orders-topic</value>\n      </entry>\n      <entry>\n        <key>Subscript"
    "ionsConfirmed</key>\n        <value>2</value>\n      </entry>\n      <entry>\n        <key>KmsMaster"
    "KeyId</key>\n        <value>alias/aws/sns</value>\n      </entry>\n      <entry>\n        <key>Displ"
    "ayName</key>\n        <value></value>\n      </entry>\n    </Attributes>\n  </GetTopicAttributesResu"
    "lt>\n  <ResponseMetadata>\n    <RequestId>057f074c-33a7-11df-9540-99d0768312d3</RequestId>\n  </Resp"
    "onseMetadata>\n</GetTopicAttributesResponse>\n";

static const char s_ListSubscriptions[] =
    "<ListSubscriptionsResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n  <ListSubscriptions"
    "Result>\n    <Subscriptions>\n      <member>\n        <TopicArn>arn:aws:sns:us-east-1:111122223333:d"
    "emo-orders-topic</TopicArn>\n        <Protocol>sqs</Protocol>\n        <SubscriptionArn>arn:aws:sns:"
    "us-east-1:111122223333:demo-orders-topic:80289ba6-0fd4-4079-afb4-ce8c8260f0ca</SubscriptionArn>\n   "
    "     <Owner>111122223333</Owner>\n        <Endpoint>arn:aws:sqs:us-east-1:111122223333:demo-orders</"
    "Endpoint>\n      </member>\n      <member>\n        <TopicArn>arn:aws:sns:us-east-1:111122223333:dem"
    "o-orders-topic</TopicArn>\n        <Protocol>lambda</Protocol>\n        <SubscriptionArn>arn:aws:sns"
    ":us-east-1:111122223333:demo-orders-topic:6b0e71bd-7e97-4d97-80ce-4a0994e55286</SubscriptionArn>\n  "
    "      <Owner>111122223333</Owner>\n        <Endpoint>arn:aws:lambda:us-east-1:111122223333:function:"
    "demo-notify:live</Endpoint>\n      </member>\n      <member>\n        <TopicArn>arn:aws:sns:us-east-"
    "1:111122223333:demo-orders-topic</TopicArn>\n        <Protocol>https</Protocol>\n        <Subscripti"
    "onArn>arn:aws:sns:us-east-1:111122223333:demo-orders-topic:1a2b3c4d-0000-0000-0000-000000000000</Sub"
    "scriptionArn>\n        <Owner>111122223333</Owner>\n        <Endpoint>https://hooks.example.com/sns<"
    "/Endpoint>\n      </member>\n      <member>\n        <TopicArn>arn:aws:sns:us-east-1:111122223333:de"
    "mo-orders-topic</TopicArn>\n        <Protocol>email</Protocol>\n        <SubscriptionArn>PendingConf"
    "irmation</SubscriptionArn>\n        <Owner>111122223333</Owner>\n        <Endpoint>ops@example.com</"
    "Endpoint>\n      </member>\n      <member>\n        <TopicArn>arn:aws:sns:us-east-1:111122223333:dem"
    "o-alerts</TopicArn>\n        <Protocol>sqs</Protocol>\n        <SubscriptionArn>arn:aws:sns:us-east-"
    "1:111122223333:demo-alerts:0000aaaa-0000-0000-0000-000000000000</SubscriptionArn>\n        <Owner>11"
    "1122223333</Owner>\n        <Endpoint>arn:aws:sqs:us-east-1:111122223333:alerts-q</Endpoint>\n      "
    "</member>\n    </Subscriptions>\n    <NextToken>c3VicyAy</NextToken>\n  </ListSubscriptionsResult>\n"
    "  <ResponseMetadata>\n    <RequestId>384ac68d-3775-11df-8963-01868b7c937a</RequestId>\n  </ResponseM"
    "etadata>\n</ListSubscriptionsResponse>\n";

static int s_setup(void **state) {
    *state = tm_test_aws_parse_new("us-east-1", "sqs", "ListQueues");
    return 0;
}

#define ORDERS "arn:aws:sqs:us-east-1:111122223333:demo-orders"
#define TOPIC "arn:aws:sns:us-east-1:111122223333:demo-orders-topic"

static void test_queue_arn(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char arn[256];
    assert_int_equal(
        tm__aws_sqs_queue_arn(arn, sizeof(arn), &fx->f, "https://sqs.us-east-1.amazonaws.com/111122223333/q-1.fifo"),
        TM_OK);
    assert_string_equal(arn, "arn:aws:sqs:us-east-1:111122223333:q-1.fifo");
    /* mockcloud answers with loopback URLs of the same shape */
    assert_int_equal(tm__aws_sqs_queue_arn(arn, sizeof(arn), &fx->f, "http://127.0.0.1:4566/111122223333/q"), TM_OK);
    assert_string_equal(arn, "arn:aws:sqs:us-east-1:111122223333:q");
    const char *bad[] = {"https://sqs.us-east-1.amazonaws.com/111122223333",
                         "https://sqs/111122223333/",
                         "https://sqs/abc/q",
                         "https://sqs/1/q/extra",
                         "https://sqs/1/q\u00e9",
                         "queue",
                         "",
                         NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tm__aws_sqs_queue_arn(arn, sizeof(arn), &fx->f, bad[i]), TM_ERR_PARSE);
}

static void test_list_queues(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char *next = NULL;
    assert_int_equal(tm__aws_sqs_parse_queues(&fx->f, s_ListQueues1, strlen(s_ListQueues1), &fx->items, &next,
                                              fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "ZXhhbXBsZU5leHRUb2tlbg==");
    free(next);
    assert_int_equal(tm__aws_sqs_parse_queues(&fx->f, s_ListQueues2, strlen(s_ListQueues2), &fx->items, &next,
                                              fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_null(next);
    assert_int_equal(tm__aws_sqs_parse_queues(&fx->f, s_ListQueuesEmpty, strlen(s_ListQueuesEmpty), &fx->items, &next,
                                              fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(fx->items.n, 3);
    const cJSON *q = tm_snapshot_find(fx->snap, ORDERS);
    assert_non_null(q);
    assert_string_equal(tm_json_str(q, "type", ""), "aws:sqs:queue");
    assert_string_equal(tm_json_str(q, "name", ""), "demo-orders");
    assert_string_equal(tm_test_aws_attr(q, "url")->valuestring,
                        "https://sqs.us-east-1.amazonaws.com/111122223333/demo-orders");
    assert_non_null(tm_snapshot_find(fx->snap, "arn:aws:sqs:us-east-1:111122223333:demo-events.fifo"));

    const char *bad[] = {"<ListQueuesResponse><Other/></ListQueuesResponse>",     "<ListQueuesResult/>",
                         "<ListQueuesResponse><ListQueuesResult><QueueUrl>x",     "",
                         "<!DOCTYPE x [<!ENTITY e \"x\">]><ListQueuesResponse/>", "{\"QueueUrls\":[]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            tm__aws_sqs_parse_queues(&fx->f, bad[i], strlen(bad[i]), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
            TM_ERR_PARSE);
        assert_null(next);
        assert_non_null(strstr(fx->errmsg, "ListQueues"));
    }
    /* An unusable URL is recorded, the rest kept. */
    const char *mixed = "<ListQueuesResponse><ListQueuesResult><QueueUrl>not a url</QueueUrl><QueueUrl><b>x</b>"
                        "</QueueUrl><QueueUrl>https://sqs.us-east-1.amazonaws.com/111122223333/ok</QueueUrl>"
                        "</ListQueuesResult></ListQueuesResponse>";
    assert_int_equal(
        tm__aws_sqs_parse_queues(&fx->f, mixed, strlen(mixed), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_int_equal(tm_snapshot_error_count(fx->snap), 2);
    assert_non_null(tm_snapshot_find(fx->snap, "arn:aws:sqs:us-east-1:111122223333:ok"));
}

static void test_queue_attributes(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.operation = "GetQueueAttributes";
    cJSON *q = NULL;
    assert_int_equal(tm_snapshot_resource(fx->snap, ORDERS, "aws:sqs:queue", "111122223333", "us-east-1", NULL, &q),
                     TM_OK);
    assert_int_equal(tm__aws_sqs_put_attributes(&fx->f, q, s_GetQueueAttributes, strlen(s_GetQueueAttributes),
                                                fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(tm_test_aws_attr(q, "kms_master_key_id")->valuestring, "alias/aws/sqs");
    assert_true(cJSON_IsFalse(tm_test_aws_attr(q, "sqs_managed_sse")));
    tm_test_aws_assert_json(
        tm_test_aws_attr(q, "redrive_policy"),
        "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:111122223333:demo-orders-dlq\",\"maxReceiveCount\":5}");
    const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(tm_test_aws_policy(q), "Statement"), 0);
    assert_string_equal(
        tm_json_str(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "Condition"), "ArnEquals"), "aws:SourceArn", ""),
        TOPIC);

    /* SSE-SQS on, no KMS key, no redrive, a policy that is not JSON: unknown, recorded. */
    assert_int_equal(tm__aws_sqs_put_attributes(&fx->f, q, s_GetQueueAttributesSse, strlen(s_GetQueueAttributesSse),
                                                fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_true(cJSON_IsNull(tm_test_aws_attr(q, "kms_master_key_id")));
    assert_true(cJSON_IsTrue(tm_test_aws_attr(q, "sqs_managed_sse")));
    assert_true(cJSON_IsNull(tm_test_aws_attr(q, "redrive_policy")));
    assert_true(tm_snapshot_is_unknown(tm_test_aws_policy(q)));
    assert_int_equal(tm_snapshot_error_count(fx->snap), 1);

    const char *odd = "<GetQueueAttributesResponse><GetQueueAttributesResult><Attribute><Name>SqsManagedSseEnabled"
                      "</Name><Value>maybe</Value></Attribute><Attribute><Name>RedrivePolicy</Name><Value>[</Value>"
                      "</Attribute></GetQueueAttributesResult></GetQueueAttributesResponse>";
    assert_int_equal(tm__aws_sqs_put_attributes(&fx->f, q, odd, strlen(odd), fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(q, "sqs_managed_sse")));
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(q, "redrive_policy")));
    assert_true(cJSON_IsNull(tm_test_aws_policy(q))); /* read, and there is none */

    const char *bad[] = {"<GetQueueAttributesResponse/>",
                         "<GetQueueAttributesResponse><GetQueueAttributesResult><Attribute><Name>Policy</Name>"
                         "</Attribute></GetQueueAttributesResult></GetQueueAttributesResponse>",
                         "<GetQueueAttributesResponse><GetQueueAttributesResult>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tm__aws_sqs_put_attributes(&fx->f, q, bad[i], strlen(bad[i]), fx->errmsg, sizeof(fx->errmsg)),
                         TM_ERR_PARSE);
}

static void test_topics_and_attributes(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.service = "sns";
    fx->f.operation = "ListTopics";
    char *next = NULL;
    assert_int_equal(tm__aws_sns_parse_topics(&fx->f, s_ListTopics, strlen(s_ListTopics), &fx->items, &next, fx->errmsg,
                                              sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "dG9waWNzMg==");
    free(next);
    assert_int_equal(fx->items.n, 2);
    cJSON *t = tm_snapshot_find(fx->snap, TOPIC);
    assert_non_null(t);
    assert_string_equal(tm_json_str(t, "type", ""), "aws:sns:topic");
    assert_string_equal(tm_json_str(t, "name", ""), "demo-orders-topic");

    fx->f.operation = "GetTopicAttributes";
    assert_int_equal(tm__aws_sns_put_attributes(&fx->f, t, s_GetTopicAttributes, strlen(s_GetTopicAttributes),
                                                fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(tm_json_str(tm_test_aws_policy(t), "Id", ""), "__default_policy_ID");
    assert_string_equal(tm_test_aws_attr(t, "kms_master_key_id")->valuestring, "alias/aws/sns");

    const char *nopolicy =
        "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes><entry><key>Owner</key>"
        "<value>1</value></entry></Attributes></GetTopicAttributesResult></GetTopicAttributesResponse>";
    assert_int_equal(tm__aws_sns_put_attributes(&fx->f, t, nopolicy, strlen(nopolicy), fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_true(cJSON_IsNull(tm_test_aws_policy(t)));
    assert_true(cJSON_IsNull(tm_test_aws_attr(t, "kms_master_key_id")));
    const char *badpolicy = "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes><entry><key>Policy</key>"
                            "<value>{&quot;Version&quot;</value></entry></Attributes></GetTopicAttributesResult>"
                            "</GetTopicAttributesResponse>";
    assert_int_equal(
        tm__aws_sns_put_attributes(&fx->f, t, badpolicy, strlen(badpolicy), fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_policy(t)));

    const char *bad[] = {"<ListTopicsResponse/>",
                         "<ListTopicsResponse><ListTopicsResult><NextToken><a/></NextToken>"
                         "</ListTopicsResult></ListTopicsResponse>",
                         "<ListTopicsResponse><ListTopicsResult>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            tm__aws_sns_parse_topics(&fx->f, bad[i], strlen(bad[i]), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
            TM_ERR_PARSE);
    const char *mixed = "<ListTopicsResponse><ListTopicsResult><Topics><member><TopicArn>arn:aws:sqs:us-east-1:1:q"
                        "</TopicArn></member><member/><member><TopicArn>arn:aws:sns:us-east-1:1:t\u00e9</TopicArn>"
                        "</member></Topics></ListTopicsResult></ListTopicsResponse>";
    size_t before = tm_snapshot_error_count(fx->snap);
    assert_int_equal(
        tm__aws_sns_parse_topics(&fx->f, mixed, strlen(mixed), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_int_equal(tm_snapshot_error_count(fx->snap), before + 2);
    assert_non_null(tm_snapshot_find(fx->snap, "arn:aws:sns:us-east-1:1:t\u00e9"));
}

static void test_subscriptions(void **state) {
    struct tm_test_aws_parse *fx = *state;
    cJSON *t = NULL, *alerts = NULL, *quiet = NULL;
    assert_int_equal(tm_snapshot_resource(fx->snap, TOPIC, "aws:sns:topic", "111122223333", "us-east-1", NULL, &t),
                     TM_OK);
    assert_int_equal(tm_snapshot_resource(fx->snap, "arn:aws:sns:us-east-1:111122223333:demo-alerts", "aws:sns:topic",
                                          "111122223333", "us-east-1", NULL, &alerts),
                     TM_OK);
    assert_int_equal(tm_snapshot_resource(fx->snap, "arn:aws:sns:us-east-1:111122223333:quiet", "aws:sns:topic",
                                          "111122223333", "us-east-1", NULL, &quiet),
                     TM_OK);
    cJSON *subs = cJSON_CreateArray();
    char *next = NULL;
    assert_int_equal(tm__aws_sns_parse_subscriptions(subs, "ListSubscriptions", s_ListSubscriptions,
                                                     strlen(s_ListSubscriptions), &next, fx->errmsg,
                                                     sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "c3VicyAy");
    free(next);
    assert_int_equal(cJSON_GetArraySize(subs), 5);
    assert_int_equal(tm__aws_sns_put_subscriptions(t, subs), TM_OK);
    assert_int_equal(tm__aws_sns_put_subscriptions(alerts, subs), TM_OK);
    assert_int_equal(tm__aws_sns_put_subscriptions(quiet, subs), TM_OK);
    const cJSON *list = tm_test_aws_attr(t, "subscriptions");
    assert_int_equal(cJSON_GetArraySize(list), 4);
    /* Sorted by subscription ARN: PendingConfirmation first; the topic ARN is not repeated. */
    tm_test_aws_assert_json(
        cJSON_GetArrayItem(list, 0),
        "{\"protocol\":\"email\",\"endpoint\":\"ops@example.com\",\"subscription_arn\":\"PendingConfirmation\"}");
    assert_true(tm_test_aws_has_link(t, "delivers-to", ORDERS));
    assert_true(tm_test_aws_has_link(t, "delivers-to", "arn:aws:lambda:us-east-1:111122223333:function:demo-notify"));
    assert_true(
        tm_test_aws_has_link(t, "delivers-to", "arn:aws:lambda:us-east-1:111122223333:function:demo-notify:live"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "links")), 3);
    assert_int_equal(cJSON_GetArraySize(tm_test_aws_attr(alerts, "subscriptions")), 1);
    assert_true(tm_test_aws_has_link(alerts, "delivers-to", "arn:aws:sqs:us-east-1:111122223333:alerts-q"));
    tm_test_aws_assert_json(tm_test_aws_attr(quiet, "subscriptions"), "[]");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(quiet, "links")), 0);
    cJSON_Delete(subs);

    const char *bad[] = {"<ListSubscriptionsResponse><ListSubscriptionsResult><Subscriptions><member>"
                         "<Protocol>sqs</Protocol></member></Subscriptions></ListSubscriptionsResult>"
                         "</ListSubscriptionsResponse>",
                         "<ListSubscriptionsByTopicResponse/>", "<ListSubscriptionsResponse><ListSubscriptionsResult>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        subs = cJSON_CreateArray();
        assert_int_equal(tm__aws_sns_parse_subscriptions(subs, "ListSubscriptions", bad[i], strlen(bad[i]), &next,
                                                         fx->errmsg, sizeof(fx->errmsg)),
                         TM_ERR_PARSE);
        assert_non_null(strstr(fx->errmsg, "ListSubscriptions"));
        cJSON_Delete(subs);
    }
}

static void test_oversized_listing(void **state) {
    struct tm_test_aws_parse *fx = *state;
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "<ListQueuesResponse><ListQueuesResult>"), TM_OK);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(
            tm_buf_appendf(&b, "<QueueUrl>https://sqs.us-east-1.amazonaws.com/111122223333/q%05d</QueueUrl>", i),
            TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "</ListQueuesResult></ListQueuesResponse>"), TM_OK);
    char *next = NULL;
    assert_int_equal(tm__aws_sqs_parse_queues(&fx->f, b.data, b.len, &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(fx->items.n, 20000);
    assert_int_equal(tm_snapshot_count(fx->snap), 20000);
    tm_buf_clean_up(&b);
}

/* ---- the demo account, scanned through its fixtures ---- */

static void test_demo_account(void **state) {
    (void)state;
    static const char *const services[] = {"sqs", "sns"};
    cJSON *unmatched = NULL, *calls = NULL;
    struct tm_snapshot *snap = tm_test_aws_scan_demo(services, 2, &unmatched, &calls);
    assert_int_equal(cJSON_GetArraySize(unmatched), 0);
    assert_int_equal(tm_snapshot_error_count(snap), 0);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:sqs:queue"), 6);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:sns:topic"), 4);
    assert_int_equal(tm_test_aws_count_calls(calls, "ListQueues"), 3); /* two pages in us-east-1 */
    const char *f03 = "arn:aws:sqs:us-east-1:111122223333:partner-inbound";
    tm_test_aws_expect(snap, f03, "policies|resource|Statement|0|Principal", "\"*\"");
    tm_test_aws_expect(snap, f03, "attrs|url", "\"https://sqs.us-east-1.amazonaws.com/111122223333/partner-inbound\"");
    tm_test_aws_expect(
        snap, "arn:aws:sns:us-east-1:111122223333:alarms", "links",
        "[{\"kind\":\"delivers-to\",\"to\":\"arn:aws:lambda:us-east-1:111122223333:function:ops-automation\"}]");
    tm_test_aws_expect(snap, "arn:aws:sns:us-east-1:111122223333:order-events", "links|0|to",
                       "\"arn:aws:sqs:us-east-1:111122223333:order-events\"");
    cJSON_Delete(unmatched);
    cJSON_Delete(calls);
    tm_snapshot_destroy(snap);
}

static void test_demo_account_denied(void **state) {
    (void)state;
    static const char *const services[] = {"sqs", "sns"};
    static const char *const queues[] = {"kms_master_key_id", "sqs_managed_sse", "redrive_policy", "policies|resource",
                                         NULL};
    static const char *const topics[] = {"subscriptions", "kms_master_key_id", "policies|resource", NULL};
    static const struct tm_test_aws_facts_of facts[] = {
        {"aws:sqs:queue", queues},
        {"aws:sns:topic", topics},
        {NULL, NULL},
    };
    tm_test_aws_scan_demo_refused(services, 2, facts);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_arn, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_list_queues, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_queue_attributes, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_topics_and_attributes, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_subscriptions, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_listing, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test(test_demo_account),
        cmocka_unit_test(test_demo_account_denied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
